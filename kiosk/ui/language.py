"""日本語 / English at runtime (issue 12 item 6). 設定 › 情報 has a button for the other language. The choice is a
device setting (``display.language`` in settings.json), written off the Kivy thread; then every screen is built
again in the new language (kv rules read their texts when a widget is made, so a rebuild is what re-renders all
of them), and 設定 reopens on the section it was showing. Errors already queued keep the language they were
shown in; the next ones follow the switch."""
from __future__ import annotations

import json
from dataclasses import replace
from typing import TYPE_CHECKING

from dakoku_core.i18n import LANGUAGES, language
from kiosk.settings import Settings, save_settings_value

if TYPE_CHECKING:
    from kiosk.ui.app import KioskApp


def other_language() -> str:
    return LANGUAGES[(LANGUAGES.index(language()) + 1) % len(LANGUAGES)]


def save_language(settings: Settings, chosen: str) -> None:
    """On the worker: ``display.language`` in the settings file (the rest of the file as it was)."""
    path = settings.path or settings.data_dir / "settings.json"
    stored = json.loads(path.read_text("utf-8")) if path.exists() else {}
    display = stored.get("display") if isinstance(stored, dict) else None
    save_settings_value(path, "display", {**(display if isinstance(display, dict) else {}), "language": chosen})


def switch_language(app: "KioskApp", chosen: str) -> None:
    app.manager_flow.audit("settings.language", "saved", chosen)
    app.bridge.submit(lambda: save_language(app.kiosk.settings, chosen), lambda _r: rebuild(app, chosen),
                      lambda error: app.presenter.show(error))


def rebuild(app: "KioskApp", chosen: str) -> None:
    """Every screen again, in ``chosen``; back on the 設定 section that was open."""
    section = app.settings_screen.section
    app.display = replace(app.display, language=chosen)   # build() takes the language from here
    old = app.root
    parent = old.parent
    new = app.build()
    if parent is not None:
        parent.remove_widget(old)
        parent.add_widget(new)
    app.root = new
    app.manager.current = "settings"
    app.manager_flow.show(section or "info")
    app.refresh_status()
