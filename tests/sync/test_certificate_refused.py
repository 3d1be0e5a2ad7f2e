"""The server refusing the recorder's signature (its certificate revoked or renewed with the admin CLI):
「証明書が正しくありません」 without a code at 認証登録 and 打刻 (uploads included), 012 at データ更新 and 接続先変更;
the outbox worker passes it on once so the kiosk can show it (docs/errors.md § Certificates)."""
from __future__ import annotations

import subprocess
import sys
import zlib

import pytest

from dakoku_core.errors import KioskError, Situation
from dakoku_server import admin, recorders
from kiosk.services.recorder_api import ClientSlot
from kiosk.services.sync import SyncService
from kiosk.sync_wiring import AttentionErrors

from .conftest import make_punches
from .harness import Provisioning

pytestmark = pytest.mark.timeout(90)
S = Situation
CERT = "証明書が正しくありません"


def admin_cli(sync_server, *args: str) -> str:
    """`kiosk-server recorders ...` against the session server's database, as an administrator runs it."""
    done = subprocess.run([sys.executable, "-m", "dakoku_server.cli", "--db", sync_server.process.db_url,
                           "recorders", *args], capture_output=True, text=True, timeout=60, check=True)
    return done.stdout


@pytest.fixture
def recorder(sync_server, request):
    """A fresh recorder of the demo company at HQ (its own code per test), with a working client."""
    sync_server.bind()
    code = f"H4{zlib.crc32(request.node.name.encode()) % 10000:04d}"
    text = recorders.add_recorder(admin.company("DEMO"), code, "HQ", server_url=sync_server.process.url).text()
    client = Provisioning.from_text(text).client()
    assert client.master_data().recorder.code == code
    return code, client


def error_of(call) -> KioskError:
    with pytest.raises(KioskError) as info:
        call()
    return info.value


def assert_split(client, employee_key: str) -> None:
    at_register = error_of(lambda: client.register_credential(employee_key, "card", "0" * 64))
    at_punch = error_of(lambda: client.upload_punches(make_punches(employee_key, 1, start_days_ago=2300)))
    at_help = error_of(lambda: client.register_help(employee_key))
    for error in (at_register, at_punch, at_help):
        assert (error.key, error.code, error.message("ja")) == ("certificate_invalid_local", None, CERT), error
        assert error.cause("ja") == "[証明書]に設定されている文字列が正しくない"
    assert (at_register.situation, at_punch.situation) == (S.REGISTRATION, S.PUNCH)
    for situation in (S.DATA_UPDATE, S.CONNECTION_CHANGE):
        error = error_of(lambda: client.master_data(situation=situation))
        assert (error.key, error.code, error.message("ja")) == ("certificate_invalid", "012", CERT)


def test_revoked_certificate(sync_server, recorder):
    code, client = recorder
    assert "revoked 1 key" in admin_cli(sync_server, "revoke", "DEMO", code)
    assert_split(client, sync_server.employee_keys["1001"])
    assert client.attempts >= 5                 # one request each: a 401 is never retried


def test_renewed_certificate(sync_server, recorder):
    code, client = recorder
    out = admin_cli(sync_server, "renew", "DEMO", code, "--url", sync_server.process.url)
    assert "BEGIN" in out
    assert_split(client, sync_server.employee_keys["1002"])
    renewed = Provisioning.from_text(out)
    assert renewed.client().master_data().recorder.code == code   # the new certificate works


def test_the_outbox_worker_reports_a_refused_certificate_once(sync_server, recorder, ledger):
    code, client = recorder
    seen = []
    attention = AttentionErrors()
    attention.listen(seen.append)
    sync = SyncService(ledger.outbox, ClientSlot(client), interval=30.0, min_backoff=0.05)
    sync.subscribe(attention.changed)
    punches = make_punches(sync_server.employee_keys["1003"], 2, start_days_ago=2400, recorder=code)
    for punch in punches:
        ledger.punches.record(punch)
    assert sync.drain().pending == 0            # the certificate still works: sent
    admin_cli(sync_server, "revoke", "DEMO", code)
    later = make_punches(sync_server.employee_keys["1003"], 1, start_days_ago=2401, recorder=code)[0]
    ledger.punches.record(later)
    status = sync.drain()
    sync.drain()                                # the worker tries again: still refused, reported once
    assert status.pending == 1 and status.online is False
    assert [(e.key, e.code, e.situation) for e in seen] == [("certificate_invalid_local", None, S.PUNCH)]
    assert ledger.outbox.state_of(later.uuid)[0] == "pending"     # kept for the renewed certificate
