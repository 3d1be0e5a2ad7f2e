"""Malformed settings are the catalogue's 010, never a guess."""
import json
import logging

import pytest

from dakoku_core.errors import KioskError
from kiosk.settings import Settings, load_settings


def test_missing_file_gives_defaults(tmp_path):
    settings = load_settings(tmp_path / "none.json")
    assert settings.reader.backend == "pcsc"   # a real kiosk


def test_server_owned_settings_are_not_device_settings():
    """The re-authentication interval, 打刻履歴を表示 and the refresh schedule are the server's recorder settings
    (dakoku_core.protocol.recorder_settings): settings.json has no key for them."""
    settings = Settings()
    assert not hasattr(settings, "reauth_interval_seconds")
    assert not hasattr(settings.display, "show_history")
    assert not hasattr(settings.sync, "refresh_interval_minutes") and not hasattr(settings.sync, "quiet_hours")


def test_a_legacy_file_with_server_owned_settings_loads_and_says_they_are_ignored(tmp_path, caplog):
    path = tmp_path / "s.json"
    path.write_text(json.dumps({"reauth_interval_seconds": 30, "display": {"show_history": False, "labels": {
        "break_start": "外出開始", "clock_in": "出社"}}, "sync": {"refresh_interval_minutes": 30,
                                                                  "quiet_hours": ["nonsense"]}}))
    with caplog.at_level(logging.WARNING, logger="kiosk.settings"):
        settings = load_settings(path)
    assert settings.display.labels == {"break_start": "外出開始", "clock_in": "出社"}   # the break pair: ignored at use
    warned = " ".join(r.getMessage() for r in caplog.records)
    for name in ("reauth_interval_seconds", "display.show_history", "sync.refresh_interval_minutes",
                 "sync.quiet_hours", "break_labels"):
        assert name in warned, name


def test_values_are_read_and_overrides_win(tmp_path):
    path = tmp_path / "s.json"
    path.write_text(json.dumps({"display": {"language": "en", "wait_seconds": 5}}))
    settings = load_settings(path, data_dir=str(tmp_path / "d"))
    assert settings.display.language == "en" and settings.display.wait_seconds == 5.0
    assert settings.ledger_path == tmp_path / "d" / "ledger.sqlite3"


@pytest.mark.parametrize("content", [
    "{not json",
    "[1, 2]",
    json.dumps({"sync": {"upload_interval_seconds": 1}}),
    json.dumps({"fingerprint": {"captures": 9}}),
    json.dumps({"timezone": "Mars/Olympus"}),
    json.dumps({"reader": {"backend": "magic"}}),
    json.dumps({"reader": "pcsc"}),
    json.dumps({"reader": {"name_pattern": "RC-S(300"}}),
    json.dumps({"display": {"fullscreen": "yes"}}),
    json.dumps({"no_such_setting": 1}),
    json.dumps({"demo": True}),
    json.dumps({"display": {"show_timecard": 1}}),
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
