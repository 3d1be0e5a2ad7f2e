"""Start the UI: configure Kivy first (before any kivy import), then build the kiosk and run."""
from __future__ import annotations

import logging
from pathlib import Path

from kiosk.errors import KioskError
from kiosk.settings import Settings

log = logging.getLogger(__name__)


def show_startup_error(error: KioskError, *, windowed: bool = False, screenshot: Path | None = None) -> int:
    """The settings could not be read: show the catalogue error full screen with default display settings."""
    from kiosk.settings import DisplaySettings
    from kiosk.ui.window import configure_kivy

    configure_kivy(DisplaySettings(), windowed=windowed or screenshot is not None)
    from kiosk.ui.app import StartupErrorApp

    app = StartupErrorApp(error)
    _maybe_screenshot(app, screenshot)
    app.run()
    return 1


def _maybe_screenshot(app, screenshot: Path | None) -> None:
    if screenshot is None:
        return
    from kivy.clock import Clock
    from kivy.core.window import Window

    def shoot(_dt):
        Window.screenshot(name=str(screenshot))
        app.stop()
    Clock.schedule_once(shoot, 2.0)


def run_app(settings: Settings, *, windowed: bool = False, screenshot: Path | None = None) -> int:
    from kiosk.ui.window import configure_kivy

    configure_kivy(settings.display, windowed=windowed or screenshot is not None)
    from kiosk.app_factory import build_kiosk
    from kiosk.ui.app import KioskApp, StartupErrorApp

    try:
        kiosk = build_kiosk(settings)
    except KioskError as error:   # e.g. the ledger cannot be opened: say so on screen, do not crash
        log.error("start-up failed: %s", error)
        app, kiosk = StartupErrorApp(error), None
    else:
        app = KioskApp(kiosk)
    _maybe_screenshot(app, screenshot)
    try:
        app.run()
    finally:
        if kiosk is not None:
            kiosk.close()
    return 0 if kiosk is not None else 1
