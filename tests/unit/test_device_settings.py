"""設定 › 表示・機器's saving: device-owned keys only, the whole file validated before an atomic write, a refused
value is the catalogue's 010 and leaves the file as it was; the running settings keep what the command line
added (demo, window) without writing it."""
from __future__ import annotations

import json
from dataclasses import replace

import pytest

from dakoku_core.errors import KioskError
from kiosk.services.device_settings import DeviceSettingsService
from kiosk.settings import ReaderSettings, load_settings


@pytest.fixture
def settings_file(tmp_path):
    path = tmp_path / "settings.json"
    path.write_text(json.dumps({"reader": {"backend": "wedge"}, "display": {"language": "ja", "wait_seconds": 15}}))
    return path


def service_for(path, **overrides):
    running = {"settings": load_settings(path, **overrides)}
    return DeviceSettingsService(lambda: running["settings"]), running


def test_a_change_is_written_with_the_rest_of_the_file_and_applies_to_the_running_settings(settings_file):
    service, running = service_for(settings_file, demo=True)
    assert running["settings"].path == settings_file
    new = service.change("display", hidden=["break_start", "break_end"], labels={"clock_in": "出社"})
    assert new.display.hidden == ["break_start", "break_end"] and new.display.wait_seconds == 15
    assert new.demo is True                                           # the command line's, kept while running ...
    stored = json.loads(settings_file.read_text("utf-8"))
    assert "demo" not in stored                                       # ... never written
    assert stored["display"] == {"language": "ja", "wait_seconds": 15, "hidden": ["break_start", "break_end"],
                                 "labels": {"clock_in": "出社"}}
    assert stored["reader"] == {"backend": "wedge"}
    assert load_settings(settings_file).display.labels == {"clock_in": "出社"}
    running["settings"] = new
    assert service.change("sound", volume=0.5, silent=True).sound == replace(new.sound, volume=0.5, silent=True)
    assert oct(settings_file.stat().st_mode & 0o777) == "0o600"


@pytest.mark.parametrize("section, values", [
    ("display", {"hidden": ["clock_in", "clock_out", "break_start", "break_end"]}),   # one must stay
    ("display", {"labels": {"break_start": "外出開始"}}),                             # the server's names
    ("display", {"show_history": False}),                                            # the server's setting
    ("display", {"fullscreen": False}),                                              # not a kiosk page's
    ("display", {"auto_modes": [{"start": "25:00", "end": "12:59", "kind": "clock_in"}]}),
    ("reader", {"backend": "usb"}),
    ("sound", {"volume": 1.5}),
    ("sync", {"upload_interval_seconds": 10.0}),
])
def test_a_refused_value_is_010_and_the_file_stays_as_it_was(settings_file, section, values):
    before = settings_file.read_bytes()
    service, _running = service_for(settings_file)
    with pytest.raises(KioskError) as refused:
        service.change(section, **values)
    assert refused.value.key == "settings_unreadable" and refused.value.code == "010"
    assert settings_file.read_bytes() == before
    assert not settings_file.with_suffix(".tmp").exists()


def test_without_a_file_it_is_made_in_the_data_folder(tmp_path):
    from kiosk.settings import Settings

    running = Settings(data_dir=tmp_path, reader=ReaderSettings(backend="simulated"))
    service = DeviceSettingsService(lambda: running)
    assert service.change("reader", backend="pcsc").reader.backend == "pcsc"
    assert json.loads((tmp_path / "settings.json").read_text()) == {"reader": {"backend": "pcsc"}}


def test_path_is_not_a_setting(tmp_path):
    path = tmp_path / "settings.json"
    path.write_text('{"path": "/etc/elsewhere.json"}')
    with pytest.raises(KioskError):
        load_settings(path)
