"""LibfprintSensor through libfprint's virtual_image and virtual_device drivers (real libfprint, no mocks)."""
from __future__ import annotations

import os
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from dakoku_core.errors import KioskError, Situation
from kiosk.fingerprint.prompts import FingerPrompt, SensorStatus
from dakoku_core.fingerprint.synth import TEST, impressions_of
from fingerprint_device.conftest import VirtualImageClient


pytestmark = pytest.mark.timeout(60)

FINGER = TEST.start + 40            # TEST seeds not used by tests/fingerprint (they take the first few)


@pytest.fixture(scope="module")
def finger_images() -> np.ndarray:
    return impressions_of(FINGER, 2)


@pytest.fixture
def pool():
    with ThreadPoolExecutor(max_workers=1) as ex:
        yield ex


def wait_for(predicate, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.01)


def place(recorder, client, image, nth: int = 1) -> None:
    """Wait until libfprint asks for a finger (the nth time), then send one impression."""
    recorder.wait_prompt(FingerPrompt.PLACE_FINGER, nth)
    client.image(image)


def test_capture_delivers_the_image_pixel_for_pixel(virtual_image, finger_images, pool):
    sensor, client, rec = virtual_image
    assert rec.statuses == [SensorStatus.PRESENT]
    future = pool.submit(sensor.capture, 10.0)
    place(rec, client, finger_images[0])
    cap = future.result(10)
    assert (cap.width, cap.height, cap.dpi) == (320, 384, 500)      # virtual_image reports no ppmm: default
    assert cap.image.dtype == np.uint8 and np.array_equal(cap.image, finger_images[0])
    assert cap.minutiae is None and cap.device.startswith("virtual_image")
    assert rec.prompts[:2] == [FingerPrompt.PLACE_FINGER, FingerPrompt.FINGER_DETECTED]
    # the device stays usable: a second capture
    future = pool.submit(sensor.capture, 10.0)
    place(rec, client, finger_images[1], nth=2)
    assert np.array_equal(future.result(10).image, finger_images[1])


@pytest.mark.parametrize("retry, prompt", [("TOO_SHORT", FingerPrompt.RETRY_TOO_SHORT),
                                           ("CENTER_FINGER", FingerPrompt.RETRY_CENTER_FINGER),
                                           ("REMOVE_FINGER", FingerPrompt.RETRY_REMOVE_FINGER),
                                           ("GENERAL", FingerPrompt.RETRY_GENERAL)])
def test_retry_is_a_prompt_and_the_capture_goes_on(virtual_image, finger_images, pool, fprint, retry, prompt):
    sensor, client, rec = virtual_image
    future = pool.submit(sensor.capture, 10.0)
    rec.wait_prompt(FingerPrompt.PLACE_FINGER)
    client.retry(getattr(fprint.DeviceRetry, retry))
    rec.wait_prompt(prompt)
    place(rec, client, finger_images[0], nth=2)           # asked again after the retry prompt
    cap = future.result(10)
    assert np.array_equal(cap.image, finger_images[0])
    assert rec.prompts.index(prompt) < len(rec.prompts) - 1


def test_an_image_without_ridges_is_rejected_by_libfprint_as_retry(virtual_image, finger_images, pool):
    """libfprint runs its own minutiae detection in capture; a blank image comes back as DeviceRetry.GENERAL."""
    sensor, client, rec = virtual_image
    future = pool.submit(sensor.capture, 10.0)
    place(rec, client, np.full((384, 320), 220, np.uint8))
    rec.wait_prompt(FingerPrompt.RETRY_GENERAL)
    place(rec, client, finger_images[0], nth=2)
    assert np.array_equal(future.result(10).image, finger_images[0])


def test_device_error_while_enrolling_is_enrollment_cancelled_b(virtual_image, pool, fprint):
    sensor, client, rec = virtual_image
    future = pool.submit(sensor.capture, 10.0, None, Situation.REGISTRATION)
    rec.wait_prompt(FingerPrompt.PLACE_FINGER)
    client.error(fprint.DeviceError.PROTO)
    with pytest.raises(KioskError) as err:
        future.result(10)
    assert (err.value.key, err.value.cause_letter) == ("enrollment_cancelled", "B")
    assert "protocol" in err.value.detail.lower()


def test_device_error_while_punching_is_device_init_failed(virtual_image, pool, fprint):
    sensor, client, rec = virtual_image
    future = pool.submit(sensor.capture, 10.0, None, Situation.PUNCH)
    rec.wait_prompt(FingerPrompt.PLACE_FINGER)
    client.error(fprint.DeviceError.GENERAL)
    with pytest.raises(KioskError) as err:
        future.result(10)
    assert err.value.key == "device_init_failed" and err.value.situation == Situation.PUNCH


def test_device_disappearing_mid_enrolment(virtual_image, pool):
    sensor, client, rec = virtual_image
    future = pool.submit(sensor.capture, 10.0, None, Situation.REGISTRATION)
    rec.wait_prompt(FingerPrompt.PLACE_FINGER)
    client.disappear()
    with pytest.raises(KioskError) as err:
        future.result(10)
    assert (err.value.key, err.value.cause_letter) == ("enrollment_cancelled", "B")
    rec.wait_status(SensorStatus.ABSENT)               # the next capture reopens: test_libfprint_replug.py


def test_device_disappearing_between_captures_is_seen_at_once_and_the_next_capture_reopens(
        virtual_image, finger_images, pool):
    """Between captures the adapter keeps an idle capture reading the device (so that nothing read then is kept
    for later): a removal sent while nobody waits is seen at once, and the next capture opens the device again."""
    sensor, client, rec = virtual_image
    client.disappear()
    rec.wait_status(SensorStatus.ABSENT)
    assert rec.prompts == []                            # nobody was asked for a finger
    future = pool.submit(sensor.capture, 10.0, None, Situation.PUNCH)
    rec.wait_prompt(FingerPrompt.PLACE_FINGER)
    fresh = VirtualImageClient(client.path)             # the reopened virtual device listens anew
    try:
        fresh.image(finger_images[0])
        assert np.array_equal(future.result(10).image, finger_images[0])
    finally:
        fresh.close()
    assert rec.statuses == [SensorStatus.PRESENT, SensorStatus.ABSENT, SensorStatus.PRESENT]


# -- only a fresh finger ---------------------------------------------------------------------------------------------

def test_an_image_sent_before_the_capture_starts_is_not_used(virtual_image, finger_images, pool):
    """libfprint itself would hand an image written while nothing captured to the next capture (seen on 1.94.5):
    the adapter reads it while idle, stamps it, and the capture that begins after it discards it."""
    sensor, client, rec = virtual_image
    client.image(finger_images[0])                      # a finger while no screen waits
    wait_for(lambda: sensor.idle_reads == 1)            # read (and set aside) at once, not left for later
    with pytest.raises(KioskError) as err:
        sensor.capture(1.0, situation=Situation.PUNCH)
    assert (err.value.key, err.value.cause_letter) == ("auth_failed", "A")     # no finger within the wait
    assert rec.prompts.count(FingerPrompt.PLACE_FINGER) == 1 and FingerPrompt.FINGER_DETECTED not in rec.prompts
    future = pool.submit(sensor.capture, 10.0, None, Situation.PUNCH)
    place(rec, client, finger_images[1], nth=2)         # a fresh finger during the wait is read
    assert np.array_equal(future.result(10).image, finger_images[1])


def test_an_image_read_after_the_wait_began_but_before_its_capture_started_counts(virtual_image, finger_images):
    """The screen began to wait (``since``) a moment before the capture's worker started: a finger read in between
    is that wait's, not a stale one."""
    sensor, client, _rec = virtual_image
    since = time.monotonic()
    client.image(finger_images[1])
    wait_for(lambda: sensor.idle_reads == 1)
    capture = sensor.capture(5.0, situation=Situation.PUNCH, since=since)
    assert np.array_equal(capture.image, finger_images[1]) and capture.read_at >= since


def test_user_cancel_is_enrollment_cancelled_a_and_the_device_stays_usable(virtual_image, finger_images, pool):
    sensor, client, rec = virtual_image
    cancel = threading.Event()
    future = pool.submit(sensor.capture, 10.0, cancel, Situation.REGISTRATION)
    rec.wait_prompt(FingerPrompt.PLACE_FINGER)
    t0 = time.monotonic()
    cancel.set()
    with pytest.raises(KioskError) as err:
        future.result(5)
    assert time.monotonic() - t0 < 2.0
    assert (err.value.key, err.value.cause_letter) == ("enrollment_cancelled", "A")
    future = pool.submit(sensor.capture, 10.0)
    place(rec, client, finger_images[0], nth=2)
    assert np.array_equal(future.result(10).image, finger_images[0])


def test_timeout_without_a_finger(virtual_image):
    sensor, _client, _rec = virtual_image
    t0 = time.monotonic()
    with pytest.raises(KioskError) as err:
        sensor.capture(0.3, situation=Situation.REGISTRATION)
    assert 0.25 < time.monotonic() - t0 < 3.0
    assert (err.value.key, err.value.cause_letter) == ("enrollment_cancelled", "A")
    with pytest.raises(KioskError) as punch:
        sensor.capture(0.2, situation=Situation.PUNCH)
    assert (punch.value.key, punch.value.cause_letter) == ("auth_failed", "A")


def test_no_sensor_is_device_init_failed(fprint, clean_env):
    from kiosk.fingerprint.libfprint_sensor import LibfprintSensor
    sensor = LibfprintSensor(driver="virtual_image")      # FP_VIRTUAL_IMAGE unset: the driver finds nothing
    try:
        with pytest.raises(KioskError) as err:
            sensor.open()
        assert err.value.key == "device_init_failed" and "no fingerprint sensor" in err.value.detail
    finally:
        sensor.close()


def test_missing_pygobject_is_device_init_failed_at_construction(monkeypatch):
    from kiosk.fingerprint import libfprint_sensor
    monkeypatch.setitem(sys.modules, "gi", None)          # import gi -> ImportError
    with pytest.raises(KioskError) as err:
        libfprint_sensor.LibfprintSensor()
    assert err.value.key == "device_init_failed" and "PyGObject" in err.value.detail


def test_capture_before_open_is_device_init_failed(fprint, clean_env):
    from kiosk.fingerprint.libfprint_sensor import LibfprintSensor
    sensor = LibfprintSensor()
    try:
        with pytest.raises(KioskError) as err:
            sensor.capture(0.1)
        assert err.value.key == "device_init_failed"
    finally:
        sensor.close()


# --- virtual_device (text commands): init failures ---------------------------------------------------------

def test_virtual_device_open_failure_is_device_init_failed(fprint, clean_env, short_dir):
    """libfprint cannot start the device (its socket directory does not exist): open fails."""
    from kiosk.fingerprint.libfprint_sensor import LibfprintSensor
    clean_env.setenv("FP_VIRTUAL_DEVICE", os.path.join(short_dir, "missing", "device.sock"))
    sensor = LibfprintSensor(driver="virtual_device")
    try:
        with pytest.raises(KioskError) as err:
            sensor.open()
        assert err.value.key == "device_init_failed" and "open failed" in err.value.detail
    finally:
        sensor.close()


def test_match_on_chip_device_is_refused_at_open(fprint, clean_env, short_dir, recorder):
    """virtual_device delivers no images (like a match-on-chip sensor): our matcher cannot use it."""
    from kiosk.fingerprint.libfprint_sensor import LibfprintSensor
    clean_env.setenv("FP_VIRTUAL_DEVICE", os.path.join(short_dir, "device.sock"))
    sensor = LibfprintSensor(driver="virtual_device", on_status=recorder.status)
    try:
        with pytest.raises(KioskError) as err:
            sensor.open()
        assert err.value.key == "device_init_failed" and "cannot deliver images" in err.value.detail
        assert SensorStatus.PRESENT not in recorder.statuses
    finally:
        sensor.close()
