"""日本語 / English at runtime (issue 12 item 6): 設定 › 情報 switches the language, every screen is rendered again
in it, the choice is written to settings.json as a device setting and survives a restart."""
from __future__ import annotations

import json

import pytest

from dakoku_core import i18n
from dakoku_core.domain.model import PunchKind
from dakoku_core.errors import KioskError
from kiosk.settings import load_settings
from kivy_harness import advance, running_app, screenshot, touch, wait_until
from registration_screens import open_settings

pytestmark = [pytest.mark.ui, pytest.mark.timeout(300)]


def _switch(app) -> None:
    app.manager_flow.show("info")
    advance(3)                               # laid out before the finger comes
    buttons = list(app.settings_screen.ids.actions.children)
    touch(buttons[-1])                       # the one action of 情報: the other language


def test_the_language_switches_at_runtime_and_persists(window, tmp_path):
    try:
        with running_app(window, tmp_path) as app:
            open_settings(app)
            _switch(app)
            wait_until(lambda: i18n.language() == "en" and app.settings_screen.section == "info")
            wait_until(lambda: len(app.settings_screen.ids.rows.children) >= 6)
            advance(5)
            rows = {row.title for row in app.settings_screen.ids.rows.children}
            assert "Version" in rows and "Manager actions" in rows            # 設定 › 情報, re-rendered
            audit = next(r for r in app.settings_screen.ids.rows.children if r.title == "Manager actions").value
            assert "Language: saved" in audit                                # the switch is audited, in English
            assert app.settings_screen.ids.actions.children[-1].text == "日本語"
            screenshot(window, "settings_info_en")
            assert app.standby.punch_button(PunchKind.CLOCK_IN).text == "Clock in"   # screens not shown too
            assert app.password_screen.ids.submit_button.text == "Next"
            app.presenter.show(KioskError("online_only"))
            assert app.presenter.dialog.message == "This function is available only when online"
            app.presenter.dismiss()
            advance(2)
            stored = json.loads((tmp_path / "settings.json").read_text("utf-8"))
            assert stored["display"]["language"] == "en"
            assert load_settings(tmp_path / "settings.json").display.language == "en"   # what a restart reads
            _switch(app)                                                         # and back
            wait_until(lambda: i18n.language() == "ja")
            wait_until(lambda: app.standby.punch_button(PunchKind.CLOCK_IN).text == "出勤")
            assert json.loads((tmp_path / "settings.json").read_text("utf-8"))["display"]["language"] == "ja"
    finally:
        i18n.set_language("ja")
