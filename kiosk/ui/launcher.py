"""Start the UI: configure Kivy first (before any kivy import), then build the kiosk and run."""
from __future__ import annotations

import logging
from pathlib import Path

from dakoku_core.errors import KioskError
from kiosk.settings import Settings

log = logging.getLogger(__name__)


def show_startup_error(error: KioskError, *, windowed: bool = False, screenshot: Path | None = None,
                       size: tuple[int, int] | None = None) -> int:
    """The settings could not be read: show the catalogue error full screen (or in a window of ``size``)."""
    from kiosk.settings import DisplaySettings
    from kiosk.ui.window import configure_kivy

    display = DisplaySettings() if size is None else DisplaySettings(width=size[0], height=size[1], fullscreen=False)
    configure_kivy(display, windowed=windowed or screenshot is not None)
    from kiosk.ui.app import StartupErrorApp

    app = StartupErrorApp(error)
    _maybe_screenshot(app, screenshot)
    _notify_systemd(app)   # the error stays on screen: a restart would not fix the settings
    _run_until_stopped(app)
    return 1


def _maybe_screenshot(app, screenshot: Path | None) -> None:
    if screenshot is None:
        return
    from kivy.clock import Clock
    from kivy.core.window import Window

    first_frame = [0]

    def shoot(_dt):
        if Clock.frames_displayed - first_frame[0] < 30:   # layout and KivyMD's animations need frames, and
            Clock.schedule_once(shoot, 0.1)               # a loaded machine draws few of them in 2 s
            return
        Window.dispatch("on_draw")   # into the back buffer, which is what the screenshot reads
        Window.screenshot(name=str(screenshot))
        app.stop()

    def started(*_args) -> None:   # returns None: a true value would stop the app's own on_start
        first_frame[0] = Clock.frames_displayed
        Clock.schedule_once(shoot, 2.0)
    # 2 s and 30 frames from the app's start, not from now: building the screens takes seconds on a slow
    # machine, and a shot taken before the first frames were drawn is all black
    app.bind(on_start=started)


def _notify_systemd(app) -> None:
    """READY=1 once the app has started, then WATCHDOG=1 from its main loop (kiosk/adapters/watchdog.py)."""
    from kiosk.adapters.watchdog import SystemdNotifier

    notifier = SystemdNotifier.from_environment()
    if notifier is None:
        return
    from kivy.clock import Clock

    def started(*_args) -> None:
        notifier.ready()
        if notifier.interval:
            app.watchdog_ping = Clock.schedule_interval(lambda _dt: notifier.ping(), notifier.interval)

    log.info("systemd notification: ready, then a watchdog ping every %s s", notifier.interval)
    app.bind(on_start=started)


HOUSEKEEPING_EVERY = 300.0   # seconds between two returns of free heap pages to the OS
AFTER_START = 5.0   # ...and once this long after the start, when building the screens and loading the master data
                    # have left their temporary memory free (docs/performance.md: idle RSS)


def _housekeeping(app) -> None:
    """Every few minutes, from the main loop: the heap's free pages go back to the OS (kiosk/adapters/memory.py:
    without it the soak saw the kiosk's RSS creep up with its threads' malloc arenas, issue 10)."""
    from kivy.clock import Clock

    from kiosk.adapters import memory

    def started(*_args) -> None:
        app.housekeeping = Clock.schedule_interval(lambda _dt: memory.release_free_memory(), HOUSEKEEPING_EVERY)
        app.housekeeping_after_start = Clock.schedule_once(lambda _dt: memory.release_free_memory(), AFTER_START)

    app.bind(on_start=started)


def run_app(settings: Settings, *, windowed: bool = False, screenshot: Path | None = None) -> int:
    from kiosk.ui.window import configure_kivy

    configure_kivy(settings.display, windowed=windowed or screenshot is not None)
    _without_postgres_driver()
    from kiosk.app_factory import build_app   # the composition root: the kiosk, then its UI
    from kiosk.ui.app import StartupErrorApp

    try:
        app = build_app(settings)
        kiosk = app.kiosk
    except KioskError as error:   # e.g. the ledger cannot be opened: say so on screen, do not crash
        log.error("start-up failed: %s", error)
        app, kiosk = StartupErrorApp(error), None
    _maybe_screenshot(app, screenshot)
    _notify_systemd(app)
    _housekeeping(app)
    try:
        _run_until_stopped(app)
    finally:
        if kiosk is not None:
            kiosk.close()
    return 0 if kiosk is not None else 1


def _without_postgres_driver() -> None:
    """peewee imports psycopg2 when it is installed (the server's extras, e.g. a development venv or the demo's):
    about 11 MB of RSS (libpq, its TLS libraries) in a kiosk whose ledger is SQLite. The kiosk process never
    talks to PostgreSQL (the demo's server runs as a process of its own), so peewee is told it is absent."""
    import sys

    if "peewee" not in sys.modules:
        sys.modules.setdefault("psycopg2", None)   # None in sys.modules: ``import psycopg2`` raises ImportError


def _run_until_stopped(app) -> None:
    """Run until 設定 › 終了, or Ctrl+C / SIGTERM from a terminal or a service manager (the window itself
    cannot be closed: kiosk/ui/window.py keeps SDL from turning those signals into a window close).

    A signal only asks: the main loop sees the request within a fifth of a second and stops the app the way
    設定 › 終了 does, rather than an exception raised wherever the signal lands (inside a clock callback, a
    lock, a frame), which can leave a worker or a lock half-way: once in a full test run the demo did not exit
    within 30 s of Ctrl+C. A second signal stops at once."""
    import signal

    from kivy.clock import Clock

    requested: list[int] = []

    def request_stop(signum, _frame):
        if requested:
            raise KeyboardInterrupt   # asked twice: the main loop is not answering
        requested.append(signum)     # nothing else here: no logging, no locks, inside a signal handler

    def answer(_dt) -> bool:
        if not requested:
            return True
        log.info("stopped by a signal (%s)", signal.Signals(requested[0]).name)
        app.stop()    # on_stop: the reader, the sensor and the bridge's workers stop before the ledger closes
        return False  # once

    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
        signal.signal(signal.SIGINT, request_stop)
    if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:   # `kiosk demo` may have its own (it stops its server)
        signal.signal(signal.SIGTERM, request_stop)
    Clock.schedule_interval(answer, 0.2)
    try:
        app.run()
    except (KeyboardInterrupt, SystemExit) as stop:
        log.info("stopped by a signal (Ctrl+C or SIGTERM)")
        app.stop()
        if isinstance(stop, SystemExit):
            raise
