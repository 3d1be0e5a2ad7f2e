"""The seed's fingerprint rows end to end: a real Kivy kiosk whose sensor is libfprint's ``virtual_image`` (and
``virtual_device`` for an open failure), synthetic fingers sent through the driver's socket, real touches on the
real screens. Each row is asserted by catalogue key (and cause letter) and by what the error modal shows.
The enrolment rows (registration screen, with the reference server) are in test_kiosk_enrolment_end_to_end.py."""
from __future__ import annotations

import os

import numpy as np
import pytest

from fingerprint_device.virtual_kiosk import keypad, libfprint_kiosk
from dakoku_core.demo import DEMO_CARDS
from dakoku_core.domain.model import AuthMethod, PunchKind
from dakoku_core.errors import catalogue
from dakoku_core.fingerprint.synth import TEST, impressions_of
from kivy_harness import advance, screenshot, touch, wait_until

pytestmark = [pytest.mark.ui, pytest.mark.timeout(180)]

YAMADA, SATO, SUZUKI = "1001", "1002", "1003"          # all three in HQ, the demo recorder's department
CARD = {c.employee_code: c.card_id for c in DEMO_CARDS if c.employee_code}
SHARED, OTHER, STRANGER = TEST.start + 50, TEST.start + 51, TEST.start + 52


@pytest.fixture(scope="module")
def fingers() -> dict[int, np.ndarray]:
    """Impressions 0-3 enrol, 4-7 enrol a second employee from the same finger, 8-9 are probes."""
    return {SHARED: impressions_of(SHARED, 10), OTHER: impressions_of(OTHER, 6), STRANGER: impressions_of(STRANGER, 2)}


@pytest.fixture
def kiosk_on(window, tmp_path, fprint, clean_env, short_dir):
    """``with kiosk_on(**FingerprintSettings options) as vk``: the kiosk on a virtual_image sensor."""
    return lambda **options: libfprint_kiosk(window, tmp_path, clean_env, short_dir, **options)


def message(key: str) -> str:
    return catalogue()[key].message().ja


def assert_error(vk, key: str, letter: str | None = None, timeout: float = 20) -> None:
    """The modal is open on that catalogue row and shows its message (and the lettered cause)."""
    wait_until(lambda: vk.app.presenter.is_open, timeout=timeout)
    error = vk.app.presenter.current
    assert (error.key, error.cause_letter) == (key, letter), error
    code, shown, cause = vk.dialog_text()
    assert code == ""                                   # these rows of the seed have no error code
    assert shown == error.message() and shown.startswith(message(key).split("{")[0])
    if letter:
        assert cause == catalogue()[key].cause(letter).ja


def punch_by_finger(vk, kind: PunchKind, image: np.ndarray) -> None:
    touch(vk.app.standby.punch_button(kind))
    assert vk.app.punch_screen.headline == "ICカードをかざすか、指を置いてください"
    vk.place(image)


def test_a_finger_punches_then_the_same_finger_again_is_already_punched(kiosk_on, fingers, window):
    with kiosk_on() as vk:
        app = vk.app
        vk.enrol(YAMADA, fingers[SHARED][0:4])
        punch_by_finger(vk, PunchKind.CLOCK_IN, fingers[SHARED][8])
        wait_until(lambda: app.punch_screen.phase == "done", timeout=20)
        assert app.punch_screen.headline == "山田 太郎 さん" and app.sound.played == ["ok"]
        punch = app.kiosk.punches.recent_punches(1)[0]
        assert (punch.employee_key, punch.kind, punch.auth_method) == ("E1001", PunchKind.CLOCK_IN,
                                                                       AuthMethod.FINGERPRINT)
        screenshot(window, "libfprint_finger_punch")
        wait_until(lambda: app.manager.current == "standby")
        punch_by_finger(vk, PunchKind.CLOCK_OUT, fingers[SHARED][9])   # within the re-authentication interval (the server's default, 60 s)
        assert_error(vk, "already_punched")
        assert app.kiosk.punches.count() == 1


def test_a_finger_nobody_enrolled_is_auth_failed_a(kiosk_on, fingers, window):
    with kiosk_on() as vk:
        vk.enrol(YAMADA, fingers[SHARED][0:4])
        punch_by_finger(vk, PunchKind.CLOCK_IN, fingers[STRANGER][0])
        assert_error(vk, "auth_failed", "A")
        assert vk.app.manager.current == "standby" and vk.app.kiosk.punches.count() == 0
        touch(vk.app.presenter.dialog.ids.details_button)
        screenshot(window, "libfprint_auth_failed")


def test_two_employees_from_one_finger_without_two_factor_contact_the_administrator(kiosk_on, fingers):
    with kiosk_on(two_factor=False) as vk:
        vk.enrol(YAMADA, fingers[SHARED][0:4])
        vk.enrol(SATO, fingers[SHARED][4:8])
        punch_by_finger(vk, PunchKind.CLOCK_IN, fingers[SHARED][8])
        assert_error(vk, "fingerprint_ambiguous_contact_admin")
        assert vk.app.manager.current == "standby" and vk.app.kiosk.punches.count() == 0


def test_two_employees_from_one_finger_with_two_factor_ask_for_the_id_then_verify(kiosk_on, fingers, window):
    with kiosk_on(two_factor=True) as vk:
        app = vk.app
        vk.enrol(YAMADA, fingers[SHARED][0:4])
        vk.enrol(SATO, fingers[SHARED][4:8])
        punch_by_finger(vk, PunchKind.CLOCK_IN, fingers[SHARED][8])
        assert_error(vk, "fingerprint_ambiguous_enter_id")
        assert app.manager.current == "password" and app.password_screen.purpose == "finger_id"
        screenshot(window, "libfprint_two_factor_message")
        vk.close_error()
        keypad(app, SATO)
        wait_until(lambda: app.manager.current == "punch")
        assert app.punch_screen.headline == "佐藤 花子 さん、もう一度指を置いてください"
        vk.place(fingers[SHARED][9])
        wait_until(lambda: app.punch_screen.phase == "done", timeout=20)
        punch = app.kiosk.punches.recent_punches(1)[0]
        assert (punch.employee_key, punch.auth_method) == ("E1002", AuthMethod.FINGERPRINT)


def test_more_enrolled_fingers_than_the_department_limit_is_too_many_patterns(kiosk_on, fingers):
    with kiosk_on(pattern_limit=1) as vk:
        vk.enrol(YAMADA, fingers[SHARED][0:4])
        vk.enrol(SUZUKI, fingers[OTHER][0:4])
        punch_by_finger(vk, PunchKind.CLOCK_IN, fingers[SHARED][8])
        assert_error(vk, "too_many_patterns")
        assert vk.app.kiosk.punches.count() == 0


INIT_FAILURES = ["virtual_device_open_fails", "no_sensor"]


def failing_sensor_kiosk(window, tmp_path, env, short_dir, failure: str):
    if failure == "virtual_device_open_fails":      # libfprint cannot start it: its socket directory is missing
        env.setenv("FP_VIRTUAL_DEVICE", os.path.join(short_dir, "missing", "device.sock"))
        options = {"driver": "virtual_device"}
    else:                                           # FP_VIRTUAL_IMAGE unset: the driver finds no device
        options = {}
    return libfprint_kiosk(window, tmp_path, env, short_dir, connect=False, **options)


@pytest.mark.parametrize("failure", INIT_FAILURES)
def test_sensor_init_failure_at_start_leaves_cards_working(window, tmp_path, fprint, clean_env, short_dir, failure):
    with failing_sensor_kiosk(window, tmp_path, clean_env, short_dir, failure) as vk:
        app = vk.app
        assert app.finger_flow.broken is not None and not app.finger_flow.enabled
        [error] = app.kiosk.startup_errors
        assert (error.key, error.situation.value) == ("device_init_failed", "startup")
        assert error.message() == message("device_init_failed")
        wait_until(lambda: "指紋センサー: 初期化失敗" in app.standby.status_text)
        app.presenter.dismiss()
        wait_until(lambda: not app.presenter.is_open)
        touch(app.standby.punch_button(PunchKind.CLOCK_IN))
        assert app.punch_screen.headline == "ICカードをかざしてください"          # no finger offered
        app.kiosk.reader.tap(CARD[YAMADA])
        wait_until(lambda: app.punch_screen.phase == "done")
        assert app.kiosk.punches.recent_punches(1)[0].auth_method is AuthMethod.CARD


@pytest.mark.parametrize("failure", INIT_FAILURES)
def test_sensor_init_failure_stays_on_screen_at_start(window, tmp_path, fprint, clean_env, short_dir, failure):
    with failing_sensor_kiosk(window, tmp_path, clean_env, short_dir, failure) as vk:
        advance(10)                                 # the card reader has reported READY by now
        assert_error(vk, "device_init_failed", timeout=0)
        assert vk.app.presenter.current.situation.value == "startup"


def test_a_sensor_plugged_in_after_the_kiosk_started_takes_fingers_without_a_restart(
        window, tmp_path, fprint, clean_env, short_dir, fingers, monkeypatch):
    from kiosk.ui import finger_flow
    monkeypatch.setattr(finger_flow, "SENSOR_PROBE_SECONDS", 0.2)
    with failing_sensor_kiosk(window, tmp_path, clean_env, short_dir, "no_sensor") as vk:
        app = vk.app
        assert_error(vk, "device_init_failed")
        wait_until(lambda: "指紋センサー: 初期化失敗" in app.standby.status_text)
        vk.enrol(YAMADA, fingers[SHARED][0:4])
        clean_env.setenv("FP_VIRTUAL_IMAGE", vk.socket_path)      # the sensor is plugged in
        wait_until(lambda: app.finger_flow.broken is None, timeout=20)
        assert not app.presenter.is_open                          # its start-up error no longer applies
        wait_until(lambda: "指紋センサー: 接続中" in app.standby.status_text)
        vk.reconnect()
        punch_by_finger(vk, PunchKind.CLOCK_IN, fingers[SHARED][8])
        wait_until(lambda: app.punch_screen.phase == "done", timeout=20)
        punch = app.kiosk.punches.recent_punches(1)[0]
        assert (punch.employee_key, punch.auth_method) == ("E1001", AuthMethod.FINGERPRINT)


def test_unplugged_while_waiting_for_a_finger_cards_keep_working_and_a_replug_takes_fingers_again(
        kiosk_on, fingers, window, clean_env, monkeypatch):
    from kiosk.ui import finger_flow
    monkeypatch.setattr(finger_flow, "SENSOR_PROBE_SECONDS", 0.2)
    with kiosk_on() as vk:
        app = vk.app
        vk.enrol(YAMADA, fingers[SHARED][0:4])
        wait_until(lambda: "指紋センサー: 接続中" in app.standby.status_text)
        touch(app.standby.punch_button(PunchKind.CLOCK_IN))
        wait_until(vk.waiting_for_finger)
        clean_env.delenv("FP_VIRTUAL_IMAGE")        # unplugged: nothing to find while it is away
        vk.client.disappear()                       # virtual_image control message -5
        vk.unanswered()
        assert_error(vk, "device_init_failed")
        assert app.presenter.current.situation.value == "punch"
        wait_until(lambda: "指紋センサー: 未接続" in app.standby.status_text)
        screenshot(window, "libfprint_unplugged")
        vk.close_error()
        if app.manager.current != "punch":
            touch(app.standby.punch_button(PunchKind.CLOCK_IN))
        app.kiosk.reader.tap(CARD[SUZUKI])
        wait_until(lambda: app.punch_screen.phase == "done")
        assert app.kiosk.punches.recent_punches(1)[0].auth_method is AuthMethod.CARD
        assert app.finger_flow.broken is not None   # still away: the kiosk's probes keep failing quietly
        clean_env.setenv("FP_VIRTUAL_IMAGE", vk.socket_path)      # plugged in again
        wait_until(lambda: app.finger_flow.broken is None, timeout=20)
        wait_until(lambda: "指紋センサー: 接続中" in app.standby.status_text)
        vk.reconnect()
        wait_until(lambda: app.manager.current == "standby")
        punch_by_finger(vk, PunchKind.CLOCK_IN, fingers[SHARED][8])
        wait_until(lambda: app.punch_screen.phase == "done", timeout=20)
        punch = app.kiosk.punches.recent_punches(1)[0]
        assert (punch.employee_key, punch.auth_method) == ("E1001", AuthMethod.FINGERPRINT)
