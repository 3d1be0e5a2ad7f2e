"""Re-plug without a restart: a removed libfprint device is enumerated and opened again on the next capture
(real libfprint: virtual_image's "device disappears" control message, then a fresh virtual_image device)."""
from __future__ import annotations

import os
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from dakoku_core.errors import KioskError, Situation
from kiosk.fingerprint.prompts import FingerPrompt, SensorStatus
from dakoku_core.fingerprint.synth import TEST, impressions_of
from fingerprint_device.conftest import VirtualImageClient

pytestmark = pytest.mark.timeout(60)

FINGER = TEST.start + 43


@pytest.fixture(scope="module")
def image() -> np.ndarray:
    return impressions_of(FINGER, 1)[0]


@pytest.fixture
def pool():
    with ThreadPoolExecutor(max_workers=1) as ex:
        yield ex


def unplug_during_capture(sensor, client, rec, pool, situation: Situation) -> KioskError:
    future = pool.submit(sensor.capture, 10.0, None, situation)
    rec.wait_prompt(FingerPrompt.PLACE_FINGER)
    client.disappear()
    with pytest.raises(KioskError) as err:
        future.result(10)
    rec.wait_status(SensorStatus.ABSENT)
    return err.value


def capture_on_a_fresh_device(sensor, client, rec, pool, image, prompts_before: int) -> np.ndarray:
    """The next capture reopens: wait for the new device to ask for a finger, connect to it, place one."""
    future = pool.submit(sensor.capture, 10.0, None, Situation.PUNCH)
    rec.wait_prompt(FingerPrompt.PLACE_FINGER, prompts_before + 1)
    fresh = VirtualImageClient(client.path)
    try:
        fresh.image(image)
        return future.result(10).image
    finally:
        fresh.close()


def test_unplugged_mid_enrolment_then_the_next_capture_opens_the_device_again(virtual_image, pool, image):
    sensor, client, rec = virtual_image
    err = unplug_during_capture(sensor, client, rec, pool, Situation.REGISTRATION)
    assert (err.key, err.cause_letter) == ("enrollment_cancelled", "B")     # the broken capture still fails
    assert rec.statuses == [SensorStatus.PRESENT, SensorStatus.ABSENT]
    captured = capture_on_a_fresh_device(sensor, client, rec, pool, image, rec.prompts.count(FingerPrompt.PLACE_FINGER))
    assert np.array_equal(captured, image)
    assert rec.statuses == [SensorStatus.PRESENT, SensorStatus.ABSENT, SensorStatus.PRESENT]
    assert sensor.device_name.startswith("virtual_image")


def test_reopening_is_bounded_and_tried_again_on_the_capture_after(virtual_image, clean_env, pool, image):
    """While nothing is plugged in, a capture tries a few times, then says device_init_failed (not a hang);
    once the device is back, the next capture opens it."""
    sensor, client, rec = virtual_image
    err = unplug_during_capture(sensor, client, rec, pool, Situation.PUNCH)
    assert err.key == "device_init_failed" and err.situation == Situation.PUNCH
    clean_env.delenv("FP_VIRTUAL_IMAGE")                # nothing to enumerate now
    t0 = time.monotonic()
    with pytest.raises(KioskError) as gone:
        sensor.capture(10.0, situation=Situation.PUNCH)
    assert gone.value.key == "device_init_failed" and "not back" in gone.value.detail
    assert "no fingerprint sensor found" in gone.value.detail
    assert time.monotonic() - t0 < 5.0                  # 3 attempts 0.5 s apart, not the capture timeout
    assert rec.statuses == [SensorStatus.PRESENT, SensorStatus.ABSENT]
    clean_env.setenv("FP_VIRTUAL_IMAGE", client.path)   # plugged in again
    captured = capture_on_a_fresh_device(sensor, client, rec, pool, image, rec.prompts.count(FingerPrompt.PLACE_FINGER))
    assert np.array_equal(captured, image)
    assert rec.statuses[-1] == SensorStatus.PRESENT


def test_cancel_while_reconnecting_is_a_cancellation(virtual_image, clean_env, pool):
    import threading
    sensor, client, rec = virtual_image
    unplug_during_capture(sensor, client, rec, pool, Situation.REGISTRATION)
    clean_env.delenv("FP_VIRTUAL_IMAGE")
    cancel = threading.Event()
    cancel.set()                                        # the manager pressed cancel: no waiting between attempts
    t0 = time.monotonic()
    with pytest.raises(KioskError) as err:
        sensor.capture(10.0, cancel, Situation.REGISTRATION)
    assert (err.value.key, err.value.cause_letter) == ("enrollment_cancelled", "A")
    assert time.monotonic() - t0 < 1.0


def test_without_a_driver_the_image_device_is_chosen_over_a_match_on_chip_one(fprint, clean_env, short_dir,
                                                                             recorder):
    """virtual_device (no images) and virtual_image side by side: driver None takes the image device."""
    from kiosk.fingerprint.libfprint_sensor import LibfprintSensor
    clean_env.setenv("FP_VIRTUAL_DEVICE", os.path.join(short_dir, "device.sock"))
    clean_env.setenv("FP_VIRTUAL_IMAGE", os.path.join(short_dir, "image.sock"))
    sensor = LibfprintSensor(on_status=recorder.status)
    try:
        sensor.open()
        assert sensor.device_name.startswith("virtual_image") and recorder.statuses == [SensorStatus.PRESENT]
    finally:
        sensor.close()


def test_close_then_open_recovers_from_a_device_error(virtual_image, fprint, pool, image):
    """A fatal device error is not a removal: the caller recovers by close() then open() (what the kiosk's
    FingerprintService.reopen_sensor does), which starts a new loop thread and a fresh device."""
    sensor, client, rec = virtual_image
    future = pool.submit(sensor.capture, 10.0, None, Situation.PUNCH)
    rec.wait_prompt(FingerPrompt.PLACE_FINGER)
    client.error(fprint.DeviceError.PROTO)
    with pytest.raises(KioskError):
        future.result(10)
    sensor.close()
    with pytest.raises(KioskError) as closed:
        sensor.capture(1.0)
    assert closed.value.key == "device_init_failed" and "not open" in closed.value.detail
    sensor.open()
    assert rec.statuses == [SensorStatus.PRESENT, SensorStatus.CLOSED, SensorStatus.PRESENT]
    captured = capture_on_a_fresh_device(sensor, client, rec, pool, image, rec.prompts.count(FingerPrompt.PLACE_FINGER))
    assert np.array_equal(captured, image)


def test_close_then_open_while_unplugged_fails_until_the_device_is_back(virtual_image, clean_env, pool, image):
    sensor, client, rec = virtual_image
    unplug_during_capture(sensor, client, rec, pool, Situation.PUNCH)
    sensor.close()
    clean_env.delenv("FP_VIRTUAL_IMAGE")
    with pytest.raises(KioskError) as err:
        sensor.open()
    assert err.value.key == "device_init_failed" and "no fingerprint sensor found" in err.value.detail
    assert rec.statuses == [SensorStatus.PRESENT, SensorStatus.ABSENT]
    clean_env.setenv("FP_VIRTUAL_IMAGE", client.path)
    sensor.open()
    assert rec.statuses == [SensorStatus.PRESENT, SensorStatus.ABSENT, SensorStatus.PRESENT]
    captured = capture_on_a_fresh_device(sensor, client, rec, pool, image, rec.prompts.count(FingerPrompt.PLACE_FINGER))
    assert np.array_equal(captured, image)
