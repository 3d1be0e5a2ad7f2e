"""Finger punching and fingerprint enrolment on real screens, with the simulated sensor (synthetic fingers)."""
from __future__ import annotations

import pytest

from dakoku_core.domain.model import AuthMethod, PunchKind
from kiosk.settings import FingerprintSettings
from kivy_harness import advance, running_app, screenshot, touch, wait_until
from registration_screens import open_registration

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


def test_enrolment_offline_says_online_only(window, tmp_path):
    """Fingerprints are registered with the server now: offline, 認証登録 refuses before any finger is asked for
    (the enrolment with the server is tests/sync/test_fingerprint_ui_online.py)."""
    settings = FingerprintSettings(backend="simulated", demo_fingers=0)
    with running_app(window, tmp_path, fingerprint=settings) as app:
        open_registration(app)
        wait_until(lambda: app.presenter.is_open)
        assert app.presenter.current.key == "online_only"
        assert app.presenter.current.message() == "この機能はオンライン時のみ利用できます"
        assert app.settings_screen.ids.actions.children == []            # no employee, no 指紋を登録
        screenshot(window, "finger_registration_offline")
        assert app.kiosk.fingerprint.store.count() == 0
