"""A bare tap on standby in a time-of-day mode (issue 12): standby stays on screen while the punch is committed, so
the first frame drawn after the tap is the confirmation, as after a chosen type. The punch screen shows a punch at
work only when the answer is late (PunchFlow.REVEAL_AFTER). Frames are counted, never timed."""
from __future__ import annotations

import threading
from contextlib import contextmanager

import pytest

from dakoku_core.demo import DEMO_CARDS
from dakoku_core.domain.model import PunchKind
from kiosk.ui.punch_flow import PunchFlow
from kivy_harness import advance, running_app, touch, wait_until

pytestmark = [pytest.mark.ui, pytest.mark.timeout(120)]
CARD = {c.employee_code or "unknown": c.card_id for c in DEMO_CARDS}
ALL_DAY = [{"start": "00:00", "end": "23:59", "kind": "clock_in"}]


@contextmanager
def drawn_frames(window, app):
    """(screen, punch phase) of every frame drawn (swapped) inside the block."""
    frames: list = []

    def record(*_args) -> None:
        frames.append((app.manager.current, app.punch_screen.phase))

    window.bind(on_flip=record)
    try:
        yield frames
    finally:
        window.unbind(on_flip=record)


@contextmanager
def worker_held(app):
    """The punch worker is busy until the block ends (one worker, in order): a punch submitted meanwhile is late."""
    gate = threading.Event()
    app.bridge.submit(lambda: gate.wait(30), lambda _r: None, lambda _e: None)
    try:
        yield
    finally:
        gate.set()


def test_the_first_frame_after_a_bare_tap_is_the_confirmation(window, tmp_path, monkeypatch):
    # the reveal far away: whatever the machine's load, the answer comes first (frames are the point, not time)
    monkeypatch.setattr(PunchFlow, "REVEAL_AFTER", 60)
    with running_app(window, tmp_path, auto_modes=ALL_DAY) as app:
        advance(3)
        with drawn_frames(window, app) as frames:
            app.kiosk.reader.tap(CARD["1001"])
            wait_until(lambda: ("punch", "done") in frames)
        before = frames[:frames.index(("punch", "done"))]
        assert all(screen == "standby" for screen, _phase in before), frames
        assert app.kiosk.punches.recent_punches(1)[0].kind is PunchKind.CLOCK_IN
        wait_until(lambda: app.manager.current == "standby")


def test_a_late_answer_shows_the_punch_at_work(window, tmp_path, monkeypatch):
    monkeypatch.setattr(PunchFlow, "REVEAL_AFTER", 0.2)
    with running_app(window, tmp_path, auto_modes=ALL_DAY) as app:
        advance(3)
        with worker_held(app):
            app.kiosk.reader.tap(CARD["1001"])
            wait_until(lambda: app.manager.current == "punch")
            assert app.punch_screen.phase == "busy" and app.kiosk.punches.count() == 0
        wait_until(lambda: app.punch_screen.phase == "done")
        assert app.manager.current == "punch" and app.kiosk.punches.count() == 1


def test_while_a_tap_on_standby_is_punched_another_tap_or_a_touch_is_not_a_punch(window, tmp_path, monkeypatch):
    monkeypatch.setattr(PunchFlow, "REVEAL_AFTER", 60)
    with running_app(window, tmp_path, auto_modes=ALL_DAY) as app:
        advance(3)
        with worker_held(app):
            app.kiosk.reader.tap(CARD["1001"])
            wait_until(lambda: app.flow.punching_from_standby)
            app.kiosk.reader.tap(CARD["1002"])
            touch(app.standby.punch_button(PunchKind.CLOCK_OUT))
            advance(3)
            assert app.manager.current == "standby" and app.punch_screen.kind is PunchKind.CLOCK_IN
        wait_until(lambda: app.punch_screen.phase == "done")
        advance(5)
        assert app.kiosk.punches.count() == 1
        assert app.kiosk.punches.recent_punches(1)[0].kind is PunchKind.CLOCK_IN


def test_a_screen_change_is_complete_before_the_next_frame(window, tmp_path):
    with running_app(window, tmp_path) as app:
        advance(5)   # KivyMD would have put its 0.2 s shared-axis animation in by now
        manager = app.manager
        app.flow.choose_kind(PunchKind.CLOCK_IN)   # as the 出勤 button does
        assert manager.children == [app.punch_screen] and not manager.transition.is_active
        app.flow.go_standby()                      # as 戻る does
        assert manager.children == [app.standby] and not manager.transition.is_active


def test_while_a_tap_on_standby_is_punched_its_top_buttons_wait(window, tmp_path, monkeypatch):
    """設定 pressed in the moment before the confirmation would open the PIN entry under it: the confirmation would
    then replace the manager's screen. The top buttons wait; after the confirmation 設定 opens as always."""
    monkeypatch.setattr(PunchFlow, "REVEAL_AFTER", 60)
    with running_app(window, tmp_path, auto_modes=ALL_DAY) as app:
        advance(3)
        with worker_held(app):
            app.kiosk.reader.tap(CARD["1001"])
            wait_until(lambda: app.flow.punching_from_standby)
            for button in ("settings_button", "timecard_button", "help_button"):
                touch(app.standby.ids[button])
            advance(3)
            assert app.manager.current == "standby" and app.password_screen.purpose != "manager"
        wait_until(lambda: app.punch_screen.phase == "done")
        assert app.manager.current == "punch" and not app.standby.punching
        app.flow.return_home()
        advance(2)
        touch(app.standby.ids.settings_button)
        wait_until(lambda: app.manager.current == "password")
        assert app.password_screen.purpose == "manager"
