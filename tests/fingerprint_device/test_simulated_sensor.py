"""The demo's simulated sensor: synthetic fingers on demand, prompts and the error paths of the port."""
from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from dakoku_core.errors import KioskError, Situation
from kiosk.fingerprint.prompts import FingerPrompt, SensorStatus
from kiosk.fingerprint.simulated_sensor import SimulatedSensor
from dakoku_core.fingerprint.synth import make_impression, make_master

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def sim(recorder):
    sensor = SimulatedSensor(on_prompt=recorder.prompt, on_status=recorder.status)
    sensor.open()
    yield sensor, recorder
    sensor.close()


def test_place_finger_gives_successive_impressions_of_that_finger(sim):
    sensor, rec = sim
    sensor.place_when_asked(3, 3)
    first = sensor.capture(5.0)
    second = sensor.capture(5.0)
    seed = sensor.seed_of(3)
    assert np.array_equal(first.image, make_impression(make_master(seed), seed, 0))
    assert np.array_equal(second.image, make_impression(make_master(seed), seed, 1))
    assert (first.width, first.height, first.dpi) == (320, 384, 500)
    assert rec.prompts[:2] == [FingerPrompt.PLACE_FINGER, FingerPrompt.FINGER_DETECTED]
    assert rec.statuses == [SensorStatus.PRESENT]


def test_retry_prompt_then_capture(sim):
    sensor, rec = sim
    sensor.retry(FingerPrompt.RETRY_TOO_SHORT)          # a device condition: it applies to the next placement
    since = time.monotonic()
    sensor.place_finger(0)
    sensor.place_finger(0)
    sensor.capture(5.0, since=since)
    assert FingerPrompt.RETRY_TOO_SHORT in rec.prompts
    assert rec.prompts.count(FingerPrompt.PLACE_FINGER) == 2


def test_errors_follow_the_port(sim):
    sensor, rec = sim
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(KioskError) as err:
        sensor.capture(5.0, cancel)
    assert (err.value.key, err.value.cause_letter) == ("enrollment_cancelled", "A")
    with pytest.raises(KioskError) as err:
        sensor.capture(0.05, situation=Situation.PUNCH)
    assert (err.value.key, err.value.cause_letter) == ("auth_failed", "A")
    sensor.fail()
    with pytest.raises(KioskError) as err:
        sensor.capture(5.0)
    assert (err.value.key, err.value.cause_letter) == ("enrollment_cancelled", "B")
    with ThreadPoolExecutor(max_workers=1) as pool:
        future = pool.submit(sensor.capture, 5.0)
        rec.wait_prompt(FingerPrompt.PLACE_FINGER, 4)
        sensor.unplug()
        with pytest.raises(KioskError) as err:
            future.result(5)
    assert (err.value.key, err.value.cause_letter) == ("enrollment_cancelled", "B")
    assert rec.statuses[-1] == SensorStatus.ABSENT
    with pytest.raises(KioskError) as err:
        sensor.open()
    assert err.value.key == "device_init_failed"
    sensor.plug()
    sensor.open()
    assert rec.statuses[-1] == SensorStatus.PRESENT


# -- only a fresh finger: a press made before the capture began is discarded ---------------------------------------

def test_a_finger_placed_before_the_capture_began_is_discarded(sim):
    sensor, rec = sim
    sensor.place_finger(1)                              # nobody waits: e.g. pressed on standby or in 設定
    sensor.place_finger(1)
    with pytest.raises(KioskError) as err:
        sensor.capture(0.2, situation=Situation.PUNCH)
    assert (err.value.key, err.value.cause_letter) == ("auth_failed", "A")     # no finger within the wait
    with pytest.raises(KioskError):
        sensor.capture(0.2, situation=Situation.PUNCH)  # discarded for good, not kept for the capture after
    sensor.place_when_asked(2)                          # a fresh press during the wait is read
    capture = sensor.capture(5.0, situation=Situation.PUNCH)
    seed = sensor.seed_of(2)
    assert np.array_equal(capture.image, make_impression(make_master(seed), seed, 0))


def test_a_capture_takes_fingers_placed_since_its_wait_began_stamped_when_placed(sim):
    sensor, _rec = sim
    sensor.place_finger(0)                              # before the wait: discarded
    since = time.monotonic()
    sensor.place_finger(3)                              # after the screen began to wait, before the capture started
    placed = time.monotonic()
    capture = sensor.capture(5.0, situation=Situation.PUNCH, since=since)
    seed = sensor.seed_of(3)
    assert np.array_equal(capture.image, make_impression(make_master(seed), seed, 0))
    assert since <= capture.read_at <= placed
