"""The Browser port on Python's webbrowser module: タイムカード / 出勤状況 open in the default browser.

No usable browser → 「エラーを特定できません」 (the seed's browser_missing); the browser failing to start →
「予期せぬ例外が発生しました」 (browser_unexpected)."""
from __future__ import annotations

import webbrowser

from kiosk.errors import KioskError, Situation


class SystemBrowser:
    def open(self, url: str) -> None:
        try:
            browser = webbrowser.get()
        except webbrowser.Error as exc:
            raise KioskError("browser_missing", situation=Situation.BROWSER, detail=str(exc)) from None
        try:
            opened = browser.open(url, new=2)
        except (OSError, webbrowser.Error) as exc:
            raise KioskError("browser_unexpected", situation=Situation.BROWSER, detail=repr(exc)) from None
        if not opened:
            raise KioskError("browser_unexpected", situation=Situation.BROWSER, detail="the browser refused the URL")
