"""Only a fresh credential punches (issue 9, item 2), on real screens with the simulated sensor and reader: a finger
pressed while nothing waits for it (on standby in 都度選択, in 設定) is discarded, never used for the next person;
a card read before the current wait began (delivered late) does not punch either."""
from __future__ import annotations

import time

import pytest

from dakoku_core.demo import DEMO_CARDS
from dakoku_core.domain.model import AuthMethod, PunchKind
from kiosk.ports import CardEvent, CardType
from kiosk.settings import FingerprintSettings
from kivy_harness import advance, running_app, touch, wait_until
from registration_screens import open_settings

pytestmark = [pytest.mark.ui, pytest.mark.timeout(120)]
CARD = {c.employee_code or "unknown": c.card_id for c in DEMO_CARDS}
YAMADA_FINGER, SATO_FINGER = 1, 2          # the demo's synthetic fingers (kiosk/demo_fingers.py)


def finger_app(window, tmp_path, fingers: int = 2):
    return running_app(window, tmp_path, fingerprint=FingerprintSettings(backend="simulated", demo_fingers=fingers))


def settle(seconds: float) -> None:
    """Let the kiosk run (frames, workers) for a while: long enough for a kept finger to have punched."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        advance(1)


def choose_and_wait_for_the_capture(app, kind: PunchKind) -> None:
    """A punch type, then until the sensor's capture for that wait has begun (and had time to read a kept press)."""
    sensor = app.kiosk.fingerprint.sensor
    started = sensor.captures_started
    touch(app.standby.punch_button(kind))
    wait_until(lambda: sensor.captures_started > started, timeout=20)
    settle(1.5)


def ready(app) -> None:
    wait_until(lambda: not app.kiosk.fingerprint_warm_up.running, timeout=60)   # demo fingers enrolled
    advance(10)


def test_a_finger_pressed_on_standby_then_a_card_records_the_cards_owner(window, tmp_path):
    with finger_app(window, tmp_path) as app:
        ready(app)
        assert app.manager.current == "standby" and not app.flow.auto_modes     # 都度選択: standby takes no finger
        app.kiosk.fingerprint.sensor.place_finger(YAMADA_FINGER)                 # 山田 presses while nothing waits
        settle(0.5)
        choose_and_wait_for_the_capture(app, PunchKind.CLOCK_IN)
        assert app.punch_screen.phase == "wait" and app.kiosk.punches.count() == 0
        app.kiosk.reader.tap(CARD["1003"])                                      # 鈴木 taps their card
        wait_until(lambda: app.punch_screen.phase == "done", timeout=20)
        punches = app.kiosk.punches.recent_punches(5)
        assert [(p.employee_key, p.auth_method, p.kind) for p in punches] == [
            ("E1003", AuthMethod.CARD, PunchKind.CLOCK_IN)]
        assert app.punch_screen.headline == "鈴木 一郎 さん"


def test_presses_made_in_settings_do_not_punch_when_a_type_is_chosen(window, tmp_path):
    with finger_app(window, tmp_path) as app:
        ready(app)
        sensor = app.kiosk.fingerprint.sensor
        open_settings(app)
        sensor.place_finger(SATO_FINGER)                      # two presses in 設定
        sensor.place_finger(SATO_FINGER)
        settle(0.3)
        touch(app.settings_screen.ids.close_button)
        wait_until(lambda: app.manager.current == "standby")
        choose_and_wait_for_the_capture(app, PunchKind.BREAK_START)
        assert app.punch_screen.phase == "wait" and app.kiosk.punches.count() == 0
        assert not app.presenter.is_open
        assert not app.flow.question.is_open    # 休憩開始 without 出勤 would ask 打刻時警告 for a stale finger
        touch(app.punch_screen.ids.back_button)
        wait_until(lambda: app.manager.current == "standby")
        choose_and_wait_for_the_capture(app, PunchKind.CLOCK_IN)
        assert app.kiosk.punches.count() == 0
        sensor.place_finger(SATO_FINGER)                      # a fresh press during the wait punches
        wait_until(lambda: app.punch_screen.phase == "done", timeout=20)
        punches = app.kiosk.punches.recent_punches(5)
        assert [(p.employee_key, p.auth_method) for p in punches] == [("E1002", AuthMethod.FINGERPRINT)]


def test_a_card_read_before_the_wait_began_is_discarded_and_a_fresh_tap_punches(window, tmp_path):
    with running_app(window, tmp_path) as app:
        advance(10)
        read_on_standby = CardEvent(CARD["1001"], CardType.FELICA, "Dakoku simulated reader", time.monotonic())
        touch(app.standby.punch_button(PunchKind.CLOCK_IN))
        app.flow.handle_card(read_on_standby)     # delivered by the bridge only after 出勤 was touched
        advance(10)
        assert app.punch_screen.phase == "wait" and app.kiosk.punches.count() == 0 and not app.presenter.is_open
        app.kiosk.reader.tap(CARD["1002"])
        wait_until(lambda: app.punch_screen.phase == "done", timeout=20)
        assert [p.employee_key for p in app.kiosk.punches.recent_punches(5)] == ["E1002"]
