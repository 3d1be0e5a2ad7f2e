"""Issue 13: per-user directories through platformdirs, and existing Linux kiosks keep their data: the default
is still $XDG_DATA_HOME/dakoku, else ~/.local/share/dakoku, and DAKOKU_DATA_DIR still wins."""
from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from kiosk.settings import default_data_dir, load_settings


def before_platformdirs(environ: dict[str, str], home: Path) -> Path:
    """The hand-written XDG rule the kiosk used until issue 13 (kiosk/settings.py at 410655e)."""
    if environ.get("DAKOKU_DATA_DIR"):
        return Path(environ["DAKOKU_DATA_DIR"])
    return Path(environ.get("XDG_DATA_HOME") or str(home / ".local" / "share")) / "dakoku"


@pytest.mark.parametrize("environ", [
    {},
    {"XDG_DATA_HOME": "{home}/xdg-data"},
    {"XDG_DATA_HOME": ""},
    {"DAKOKU_DATA_DIR": "{home}/kiosk-data", "XDG_DATA_HOME": "{home}/xdg-data"},
], ids=["home", "xdg", "empty-xdg", "dakoku-data-dir"])
def test_the_default_is_where_it_was_before_platformdirs(tmp_path, monkeypatch, environ):
    environ = {k: v.format(home=tmp_path) for k, v in environ.items()}
    monkeypatch.setenv("HOME", str(tmp_path))
    for name in ("XDG_DATA_HOME", "DAKOKU_DATA_DIR"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    assert default_data_dir() == before_platformdirs(environ, tmp_path)


def test_an_existing_kiosk_finds_its_ledger_and_settings(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("XDG_DATA_HOME", raising=False)
    monkeypatch.delenv("DAKOKU_DATA_DIR", raising=False)
    old = tmp_path / ".local" / "share" / "dakoku"   # where a kiosk installed before issue 13 keeps its data
    old.mkdir(parents=True)
    (old / "settings.json").write_text('{"timezone": "Asia/Tokyo", "display": {"language": "en"}}')
    with sqlite3.connect(old / "ledger.sqlite3") as db:
        db.execute("CREATE TABLE kept (x)")
    settings = load_settings(default_data_dir() / "settings.json")
    assert settings.display.language == "en"          # its settings file was read
    assert settings.ledger_path == old / "ledger.sqlite3" and settings.ledger_path.stat().st_size > 0
