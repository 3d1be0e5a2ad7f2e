"""Driving real Kivy screens in tests: one offscreen window per process, real touches, frames advanced
(each lasting at least FRAME_FLOOR). Shared by the UI tests and the end-to-end reader tests."""
from __future__ import annotations

import sys
import time
from contextlib import contextmanager
from pathlib import Path

import pytest

from kiosk.app_factory import build_kiosk
from kiosk.settings import DisplaySettings, ReaderSettings, Settings

SHOTS = Path(__file__).resolve().parents[1] / "artifacts" / "screens"


@pytest.fixture(scope="session")
def window():
    from kiosk.ui.window import configure_kivy

    if "kivy" not in sys.modules:
        # Created at the largest size a layout test uses (tests/ui/test_layout_*.py): an offscreen window renders
        # only within the size it was created with, and the tests' 1280×800 is set just below.
        configure_kivy(DisplaySettings(fullscreen=False, width=1920, height=1280), windowed=True)
    from kivy.base import EventLoop
    from kivy.core.window import Window

    EventLoop.ensure_window()
    Window.size = (1280, 800)
    return Window


# A frame here lasts at least this long. Dialogs and the on-screen keys fade in and out over 0.1 s of real time,
# and many tests advance "a few frames" for that: that held while a frame cost 60-180 ms in software GL, and no
# longer once the kiosk's frames became cheap (issue 12's performance work: about 17 ms at the 60 fps cap). With
# the floor, N frames still mean at least N × 60 ms, as before; a test that waits for a condition does not need it.
FRAME_FLOOR = 0.06


def advance(frames: int = 3) -> None:
    from kivy.base import EventLoop

    for _ in range(frames):
        started = time.monotonic()
        EventLoop.idle()
        rest = FRAME_FLOOR - (time.monotonic() - started)
        if rest > 0:
            time.sleep(rest)


def wait_until(predicate, timeout: float = 10.0, describe=None) -> None:
    """Advance frames until ``predicate()``; ``describe()`` (if given) says what the app showed instead."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time" + (f": {describe()}" if describe else ""))
        advance(1)


def touch(widget) -> None:
    """A real touch at the widget's centre, once any screen transition has finished (as a person would)."""
    from kivy.app import App
    from kivy.tests.common import UnitTestTouch

    manager = getattr(App.get_running_app(), "manager", None)
    if manager is not None:
        wait_until(lambda: not manager.transition.is_active)
    x, y = widget.to_window(*widget.center)
    t = UnitTestTouch(x, y)
    t.touch_down()
    advance(2)
    t.touch_up()
    advance(2)


def laid_out(widget, timeout: float = 10.0):
    """``widget`` once its layout has placed it: its window rectangle unchanged from one frame to the next. A button
    just added (a picker's names after its row was touched) may still sit where it was made, and a touch there
    misses it (CI: the 鈴木 button of 認証情報 once took no touch)."""
    last = None

    def steady() -> bool:
        nonlocal last
        now = (*widget.to_window(*widget.pos), *widget.size)
        same, last = now == last, now
        return same and widget.get_root_window() is not None
    wait_until(steady, timeout=timeout)
    return widget


def screenshot(window, name: str) -> Path:
    """Render to artifacts/screens/<name>0001.png (replacing the last run's), for a person to look at."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    for old in SHOTS.glob(f"{name}0*.png"):
        old.unlink()
    advance(20)   # let KivyMD's colour animations settle
    return Path(window.screenshot(name=str(SHOTS / f"{name}.png")))


class RecordingSound:
    def __init__(self):
        self.played = []

    def play(self, name: str) -> None:
        self.played.append(name)


@contextmanager
def running_app(window, tmp_path, reader=None, fingerprint=None, recorder_settings=None, **display_options):
    """A KioskApp on the demo data in ``tmp_path``, attached to the window; ``reader`` replaces the
    simulated one (e.g. the real PC/SC adapter); ``fingerprint`` is a FingerprintSettings (default: none);
    ``recorder_settings``: the server's, as a データ更新 would have brought them before the app started
    (default: the shared defaults, e.g. the sequence warning on)."""
    from kiosk.settings import FingerprintSettings

    # undo_seconds=0: no 取り消し, so confirmations end after 0.6 s; the undo tests ask for it (test_undo_*.py)
    options = dict(fullscreen=False, confirmation_seconds=0.6, error_seconds=30, undo_seconds=0)
    options.update(display_options)
    kiosk = build_kiosk(Settings(data_dir=tmp_path, demo=True,
                                 reader=ReaderSettings(backend="simulated"),
                                 fingerprint=fingerprint or FingerprintSettings(),
                                 display=DisplaySettings(**options)), reader=reader)
    if recorder_settings is not None:
        from dakoku_core.demo import seed_demo

        seed_demo(kiosk.master, kiosk.clock.read().at.date(), recorder_settings=recorder_settings)
    with attached_app(window, kiosk) as app:
        yield app


@contextmanager
def attached_app(window, kiosk):
    """A KioskApp on ``kiosk`` (built by the caller), started and attached to the window until the block ends;
    then stopped, detached, every dialog it left removed and the kiosk closed."""
    from kiosk.ui.app import KioskApp

    app = KioskApp(kiosk, sound=RecordingSound())
    app.root = app.build()
    window.add_widget(app.root)
    app.on_start()
    try:
        wait_until(lambda: app.reader_state is not None)
        yield app
    finally:
        app.presenter.dismiss()
        advance(2)
        app.on_stop()
        window.remove_widget(app.root)
        _remove_modals(window)
        kiosk.close()


def _remove_modals(window) -> None:
    """The window is shared by the session's UI tests: a dialog that a test left open (a question, the on-screen
    keys, a test that failed half-way) or that is still animating out must not cover the next test's screens."""
    from kivy.uix.modalview import ModalView

    for view in [w for w in window.children if isinstance(w, ModalView)]:
        view.dismiss(animation=False)
        if view.parent is not None:
            view.parent.remove_widget(view)
    advance(2)
