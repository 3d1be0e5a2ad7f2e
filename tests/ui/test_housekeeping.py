"""The kiosk's main loop gives the heap's free pages back to the OS every few minutes (issue 10's soak)."""
from __future__ import annotations

import pytest
from kivy.event import EventDispatcher

from kiosk.adapters import memory
from kiosk.ui import launcher

pytestmark = pytest.mark.ui


class StartingApp(EventDispatcher):
    """What the launcher binds to: an ``on_start`` event."""
    __events__ = ("on_start",)

    def on_start(self):
        pass


def test_the_timer_starts_with_the_app_and_releases_memory_on_each_beat(monkeypatch):
    calls = []
    monkeypatch.setattr(memory, "release_free_memory", lambda: calls.append(1) or True)
    app = StartingApp()
    launcher._housekeeping(app)
    assert not hasattr(app, "housekeeping"), "nothing runs before the app has started"
    app.dispatch("on_start")
    try:
        assert app.housekeeping.timeout == launcher.HOUSEKEEPING_EVERY
        app.housekeeping.callback(0.0)
        app.housekeeping.callback(0.0)
        assert calls == [1, 1]
    finally:
        app.housekeeping.cancel()
