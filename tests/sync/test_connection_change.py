"""接続先変更 and the connection settings file: local checks (000, 012), a real fetch, 008 when what the
kiosk needs is missing, an atomic 0600 file, 010 when it is broken, and old settings kept on failure."""
from __future__ import annotations

import os
import stat

import pytest

from kiosk.adapters.connection_file import ConnectionFile
from kiosk.adapters.recorder_client import KioskRecorderClient
from dakoku_core.errors import KioskError
from kiosk.services.connection_change import ConnectionChangeService
from kiosk.services.recorder_api import ClientSlot
from kiosk.ports.recorder_api import ConnectionSettings

from .harness import FAST_RETRY, json_answer

pytestmark = pytest.mark.timeout(60)
FETCH = "データの取得に失敗しました"


def make_client(settings, connection, certificate):
    return KioskRecorderClient(connection, certificate, proxy_url=settings.proxy_url, retry=FAST_RETRY,
                               timeout=(2.0, 3.0))


@pytest.fixture
def change(ledger, tmp_path):
    file = ConnectionFile(tmp_path / "data")
    slot = ClientSlot()
    return ConnectionChangeService(file, ledger.store, make_client, slot=slot), file, slot


def test_change_fetches_saves_and_swaps_the_client(sync_server, ledger, change):
    service, file, slot = change
    result = service.change(sync_server.demo.connection_text, sync_server.demo.certificate_text)
    assert result.connection.recorder == "R001" and result.employees >= 8
    assert ledger.master.recorder().code == "R001" and slot.get() is not None
    saved = file.load()
    assert saved.connection_string == sync_server.demo.connection_text
    assert stat.S_IMODE(os.stat(file.path).st_mode) == 0o600
    assert [p.name for p in file.path.parent.iterdir()] == ["connection.json"]   # no temp file left


@pytest.mark.parametrize("mangle, code", [
    (lambda c, k: ("v=1;url=http://x/", k), "000"),
    (lambda c, k: (c, k.replace("A", "B", 3)), "012"),
    (lambda c, k: (c.replace("recorder=R001", "recorder=R777"), k), "012"),   # the certificate is for R001
])
def test_local_checks_before_any_request(sync_server, change, mangle, code):
    service, file, slot = change
    connection, certificate = mangle(sync_server.demo.connection_text, sync_server.demo.certificate_text)
    with pytest.raises(KioskError) as info:
        service.change(connection, certificate)
    assert info.value.code == code and not file.exists() and slot.get() is None


def working(sync_server, service):
    service.change(sync_server.demo.connection_text, sync_server.demo.certificate_text)


def test_failed_change_keeps_old_settings(sync_server, ledger, change):
    service, file, slot = change
    working(sync_server, service)
    before, client_before, version_before = file.path.read_bytes(), slot.get(), ledger.store.current_version()
    unreachable = sync_server.demo.connection_text.replace(f":{sync_server.process.port}/", ":9/")
    with pytest.raises(KioskError) as info:
        service.change(unreachable, sync_server.demo.certificate_text)
    assert (info.value.code, info.value.message("ja")) == ("004", FETCH)
    with pytest.raises(KioskError) as info:
        service.change(sync_server.ipco.connection_text, sync_server.ipco.certificate_text)
    assert info.value.code == "009"
    assert file.path.read_bytes() == before and slot.get() is client_before
    assert ledger.store.current_version() == version_before and ledger.master.recorder().code == "R001"


def test_missing_start_data_is_008(sync_server, ledger, change, scripted):
    service, file, slot = change
    working(sync_server, service)
    before = file.path.read_bytes()
    full = sync_server.demo.client().master_data()
    body = {"version": 1, "full": True, "company": {"code": "DEMO"}, "card_key": "A" * 43,
            "recorder": {"code": "R001", "company_code": "DEMO", "department_code": "NOWHERE"},
            "departments": [], "employment_types": [], "employees": [], "credentials": [],
            "help_registrations": [], "deleted": []}
    scripted.play(json_answer(200, body, ETag='W/"m1"'))
    moved = sync_server.demo.connection_text.replace(f":{sync_server.process.port}/", f":{scripted.port}/")
    with pytest.raises(KioskError) as info:
        service.change(moved, sync_server.demo.certificate_text)
    assert (info.value.code, info.value.message("ja")) == ("008", FETCH)
    assert file.path.read_bytes() == before and ledger.store.current_version().version == full.version


@pytest.mark.parametrize("content", [b"{not json", b"\xff\xfe", b'{"v": 1, "connection_string": 5}',
                                     b'{"v": 2}', b'{"v": 1, "connection_string": "v=1;x", "certificate": "y"}'])
def test_corrupt_connection_file_is_010(sync_server, tmp_path, content):
    file = ConnectionFile(tmp_path)
    file.path.write_bytes(content)
    with pytest.raises(KioskError) as info:
        file.load_parsed()
    assert (info.value.code, info.value.message("ja")) == ("010", FETCH)


def test_connection_file_round_trip_and_missing(sync_server, tmp_path):
    file = ConnectionFile(tmp_path / "new")
    assert file.load() is None and file.load_parsed() is None
    settings = ConnectionSettings(sync_server.demo.connection_text, sync_server.demo.certificate_text,
                                  "http://127.0.0.1:3128", "user", "pa ss")
    file.save(settings)
    loaded, connection, certificate = file.load_parsed()
    assert loaded == settings and connection.recorder == certificate.recorder == "R001"
    assert "pa ss" not in repr(loaded) and "PRIVATE" not in repr(loaded)


def test_first_setup_is_initial_setup_then_connection_change(sync_server, ledger, change):
    """The seed's 初期設定時 (no connection saved yet) and 接続先変更時 (one was) are told apart by the file."""
    from dakoku_core.errors import Situation

    service, file, slot = change
    with pytest.raises(KioskError) as info:
        service.change(sync_server.ipco.connection_text, sync_server.ipco.certificate_text)
    assert (info.value.code, info.value.situation) == ("009", Situation.INITIAL_SETUP)
    assert not file.exists()
    working(sync_server, service)
    with pytest.raises(KioskError) as info:
        service.change(sync_server.ipco.connection_text, sync_server.ipco.certificate_text)
    assert (info.value.code, info.value.situation) == ("009", Situation.CONNECTION_CHANGE)
