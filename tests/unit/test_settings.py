"""Malformed settings are the catalogue's 010, never a guess."""
import json

import pytest

from kiosk.errors import KioskError
from kiosk.settings import load_settings


def test_missing_file_gives_defaults(tmp_path):
    settings = load_settings(tmp_path / "none.json")
    assert settings.reader.backend == "pcsc" and settings.reauth_interval_seconds == 30   # a real kiosk


def test_values_are_read_and_overrides_win(tmp_path):
    path = tmp_path / "s.json"
    path.write_text(json.dumps({"reauth_interval_seconds": 60, "display": {"language": "en", "wait_seconds": 5}}))
    settings = load_settings(path, data_dir=str(tmp_path / "d"))
    assert settings.reauth_interval_seconds == 60
    assert settings.display.language == "en" and settings.display.wait_seconds == 5.0
    assert settings.ledger_path == tmp_path / "d" / "ledger.sqlite3"


@pytest.mark.parametrize("content", [
    "{not json",
    "[1, 2]",
    json.dumps({"reauth_interval_seconds": "30"}),
    json.dumps({"reauth_interval_seconds": -1}),
    json.dumps({"timezone": "Mars/Olympus"}),
    json.dumps({"reader": {"backend": "magic"}}),
    json.dumps({"reader": "pcsc"}),
    json.dumps({"reader": {"name_pattern": "RC-S(300"}}),
    json.dumps({"display": {"fullscreen": "yes"}}),
    json.dumps({"no_such_setting": 1}),
    json.dumps({"demo": True}),
    json.dumps({"reauth_interval_seconds": True}),
    json.dumps({"display": {"wait_seconds": -1}}),
    json.dumps({"display": {"width": 0}}),
    json.dumps({"manager_pin_hash": 1234}),
])
def test_malformed_settings_are_010(tmp_path, content):
    path = tmp_path / "s.json"
    path.write_text(content)
    with pytest.raises(KioskError) as info:
        load_settings(path)
    assert (info.value.key, info.value.code) == ("settings_unreadable", "010")


def test_undecodable_bytes_are_010(tmp_path):
    path = tmp_path / "s.json"
    path.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(KioskError) as info:
        load_settings(path)
    assert info.value.code == "010"


@pytest.mark.parametrize("display", [
    {"punch_mode": "sometimes"},
    {"auto_modes": [{"start": "25:00", "end": "12:59", "kind": "clock_in"}]},
    {"labels": {"lunch": "昼食"}},
    {"labels": {"break_start": ""}},
    {"hidden": ["clock_in", "clock_out", "break_start", "break_end"]},
    {"hidden": ["nap"]},
])
def test_malformed_punch_display_settings_are_010(tmp_path, display):
    path = tmp_path / "s.json"
    path.write_text(json.dumps({"display": display}))
    with pytest.raises(KioskError) as info:
        load_settings(path)
    assert info.value.code == "010"


def test_default_reader_pattern_is_the_adapters():
    from kiosk.adapters.pcsc_reader import DEFAULT_READER_PATTERN
    from kiosk.settings import ReaderSettings

    assert ReaderSettings().name_pattern == DEFAULT_READER_PATTERN
