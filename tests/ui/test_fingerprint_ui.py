"""Finger punching and fingerprint enrolment on real screens, with the simulated sensor (synthetic fingers)."""
from __future__ import annotations

import pytest

from kiosk.domain.model import AuthMethod, PunchKind
from kiosk.settings import FingerprintSettings
from kivy_harness import advance, running_app, screenshot, touch, wait_until

pytestmark = [pytest.mark.ui, pytest.mark.timeout(120)]


def test_a_finger_punches_like_a_card(window, tmp_path):
    settings = FingerprintSettings(backend="simulated", demo_fingers=1)
    with running_app(window, tmp_path, fingerprint=settings) as app:
        warm_up = app.kiosk.fingerprint_warm_up
        wait_until(lambda: not warm_up.running, timeout=30)      # the demo enrols 山田's synthetic finger 1
        assert app.kiosk.fingerprint.store.fingers_of("E1001") == {0}
        advance(10)
        assert "指を置いてください" in app.standby.hint_text
        touch(app.standby.punch_button(PunchKind.CLOCK_IN))
        assert app.punch_screen.headline == "ICカードをかざすか、指を置いてください"
        wait_until(lambda: app.finger_flow._cancel is not None)   # the capture waits on the slow worker
        finger_buttons = [b for b in app.demo_panel.walk() if hasattr(b, "finger")]
        assert [b.finger for b in finger_buttons] == [1, 9] and "山田" in finger_buttons[0].text
        touch(finger_buttons[0])
        wait_until(lambda: app.punch_screen.phase == "done")
        punch = app.kiosk.punches.recent_punches(1)[0]
        assert punch.auth_method is AuthMethod.FINGERPRINT and punch.kind is PunchKind.CLOCK_IN
        assert app.punch_screen.headline == "山田 太郎 さん" and app.sound.played == ["ok"]
        screenshot(window, "finger_confirmation")
        wait_until(lambda: app.manager.current == "standby")
        assert app.finger_flow._cancel is None                    # leaving the wait cancelled the capture
        touch(app.standby.punch_button(PunchKind.CLOCK_OUT))
        touch(finger_buttons[1])                                  # a finger nobody enrolled
        wait_until(lambda: app.presenter.is_open)
        assert (app.presenter.current.key, app.presenter.current.cause_letter) == ("auth_failed", "A")
        assert app.kiosk.punches.count() == 1


def open_registration_for_yamada(app) -> None:
    touch(app.standby.ids.settings_button)
    keys = {b.key: b for b in app.password_screen.ids.keypad.children}
    for key in "0000":
        touch(keys[key])
    touch(app.password_screen.ids.submit_button)
    wait_until(lambda: app.manager.current == "settings")
    screen = app.settings_screen
    touch(screen._section_buttons["registration"])
    wait_until(lambda: screen.notice != "")                      # offline, yet open: fingerprints are local
    assert not app.presenter.is_open
    touch(next(b for b in screen.ids.actions.children if b.text == "ヤ"))
    wait_until(lambda: len(screen.ids.rows.children) > 0)
    touch(next(b for b in screen.ids.rows.children if "山田" in b.text))


def enrol_on_screen(app, finger: int) -> None:
    screen = app.settings_screen
    touch(next(b for b in screen.ids.actions.children if b.text == "指紋を登録"))
    for step in range(1, 5):
        wait_until(lambda: screen.notice == f"{step}/4 回目: 指を置いてください")
        app.kiosk.fingerprint.sensor.place_finger(finger)


def test_enrolment_shows_progress_then_registers(window, tmp_path):
    settings = FingerprintSettings(backend="simulated", demo_fingers=0)
    with running_app(window, tmp_path, fingerprint=settings) as app:
        open_registration_for_yamada(app)
        screen = app.settings_screen
        seen: list[str] = []
        screen.bind(notice=lambda _s, text: seen.append(text))
        enrol_on_screen(app, 1)
        wait_until(lambda: "指紋を登録しました" in screen.notice, timeout=20)
        assert screen.notice.startswith("山田 太郎 さんの指紋を登録しました")
        assert any(t.startswith("1/4 回目: 読み取りました(特徴点 ") for t in seen)
        assert any("照合しています" in t for t in seen)
        assert app.kiosk.fingerprint.store.fingers_of("E1001") == {0}
        screenshot(window, "finger_enrolled")
        enrol_on_screen(app, 1)                                    # the same finger again
        wait_until(lambda: app.presenter.is_open, timeout=20)
        assert app.presenter.current.key == "credential_registered_to_employee"
        assert app.kiosk.fingerprint.store.fingers_of("E1001") == {0}
        actions = [a for _at, a, outcome, _d in app.kiosk.manager.recent(10)]
        assert "registration.fingerprint" in actions
