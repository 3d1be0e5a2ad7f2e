"""Start the UI: configure Kivy first (before any kivy import), then build the kiosk and run."""
from __future__ import annotations

import logging
from pathlib import Path

from kiosk.errors import KioskError
from kiosk.settings import Settings

log = logging.getLogger(__name__)


def run_app(settings: Settings, *, windowed: bool = False, screenshot: Path | None = None) -> int:
    from kiosk.ui.window import configure_kivy

    configure_kivy(settings.display, windowed=windowed or screenshot is not None)
    from kivy.clock import Clock
    from kivy.core.window import Window

    from kiosk.app_factory import build_kiosk
    from kiosk.ui.app import KioskApp, StartupErrorApp

    try:
        kiosk = build_kiosk(settings)
    except KioskError as error:   # e.g. the ledger cannot be opened: say so on screen, do not crash
        log.error("start-up failed: %s", error)
        app, kiosk = StartupErrorApp(error), None
    else:
        app = KioskApp(kiosk)
    if screenshot is not None:
        def shoot(_dt):
            Window.screenshot(name=str(screenshot))
            app.stop()
        Clock.schedule_once(shoot, 2.0)
    try:
        app.run()
    finally:
        if kiosk is not None:
            kiosk.close()
    return 0 if kiosk is not None else 1
