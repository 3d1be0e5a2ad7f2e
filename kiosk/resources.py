"""Where the kiosk's own files are: ``kv/`` and ``fonts/`` sit next to the ``kiosk`` package in a checkout, and in
the folder PyInstaller unpacks a frozen build into (``sys._MEIPASS``: packaging/pyinstaller/kiosk.spec)."""
from __future__ import annotations

import sys
from pathlib import Path


def resource_root() -> Path:
    bundle = getattr(sys, "_MEIPASS", None)
    return Path(bundle) if bundle else Path(__file__).resolve().parents[1]
