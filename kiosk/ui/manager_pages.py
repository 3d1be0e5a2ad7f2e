"""What the manager's pages of 設定 share (認証情報, 出勤状況, 表示・機器): their kv file, loaded once on first use,
and the audit helper. Each page is a small object the manager flow opens by section name: ``show()``."""
from __future__ import annotations

from kivy.lang import Builder

_loaded = False


def ensure_kv() -> None:
    global _loaded
    if not _loaded:
        from kiosk.ui.app import KV_DIR   # the app is running: its module is loaded

        Builder.load_file(str(KV_DIR / "manager_pages.kv"))
        _loaded = True
