"""ペアリングコードで設定 against the real reference server over TLS on loopback: the admin CLI issues a code, the
kiosk's pairing service redeems it and the kiosk then syncs a punch; a wrong check code, an impostor with its own
CA, an impostor relaying the real CA, a dead port and a plain-HTTP port each give their catalogue error, and the code
never reaches anyone but the real server."""
from __future__ import annotations

import re
import socket
import subprocess
import sys
import threading

import pytest

from kiosk.adapters.connection_file import ConnectionFile
from kiosk.adapters.pairing_client import PairingClient
from kiosk.adapters.recorder_client import KioskRecorderClient
from dakoku_core.errors import KioskError, Situation
from dakoku_core.protocol import pairing as proto
from dakoku_server.tls import create_local_ca
from kiosk.services.connection_change import ConnectionChangeService
from kiosk.services.pairing import PairingService
from kiosk.services.recorder_api import ClientSlot
from kiosk.services.sync import SyncService

from .conftest import make_punches
from .harness import FAST_RETRY, ScriptedHttps, free_port, json_answer

pytestmark = pytest.mark.timeout(120)


def cli(sync_server, *args: str) -> str:
    done = subprocess.run([sys.executable, "-m", "dakoku_server.cli", "--db", sync_server.process.db_url, *args],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout


def new_recorder(sync_server, code: str) -> None:
    cli(sync_server, "recorders", "add", "DEMO", code, "--department", "HQ",
        "--url", f"https://127.0.0.1:{sync_server.process.port}/")


def pair_code(sync_server, code: str) -> tuple[str, str, str]:
    """(host:port, code, check) as the CLI prints them (grouped), and its scan line agrees."""
    out = cli(sync_server, "recorders", "pair", "DEMO", code)
    grouped = re.findall(r"\b[2-9A-HJ-NP-Z]{4}(?:-[2-9A-HJ-NP-Z]{4})+\b", out)
    pairing_code, check = grouped[0], grouped[1]
    scan = re.search(r"dakoku-pair:\S+", out).group(0)
    host = f"127.0.0.1:{sync_server.process.port}"
    assert scan == proto.scan_line(host, proto.normalise(pairing_code), proto.normalise(check))
    return host, pairing_code, check


@pytest.fixture
def kiosk(ledger, tmp_path):
    file = ConnectionFile(tmp_path / "data")
    slot = ClientSlot()

    def make_client(settings, connection, certificate):
        return KioskRecorderClient(connection, certificate, proxy_url=settings.proxy_url, retry=FAST_RETRY,
                                   timeout=(2.0, 5.0))
    change = ConnectionChangeService(file, ledger.store, make_client, slot=slot)
    service = PairingService(lambda proxy: PairingClient(proxy_url=proxy, timeout=(2.0, 5.0)), change.change,
                             change.situation)
    return service, file, slot


def test_cli_code_pairs_the_kiosk_which_then_syncs_a_punch(sync_server, ledger, kiosk):
    service, file, slot = kiosk
    new_recorder(sync_server, "PAIR1")
    host, code, check = pair_code(sync_server, "PAIR1")
    result = service.pair(host, code.lower(), check)                   # typed in lower case: normalised
    assert (result.connection.company, result.connection.recorder) == ("DEMO", "PAIR1")
    assert file.load() is not None and ledger.master.recorder().code == "PAIR1"
    punch = make_punches(sync_server.employee_keys["1001"], 1, start_days_ago=1500, recorder="PAIR1")[0]
    ledger.punches.record(punch)
    status = SyncService(ledger.outbox, slot).drain()
    assert (status.pending, status.rejected, status.online) == (0, 0, True)
    assert sync_server.punch_rows([punch.uuid]) == {punch.uuid: 1}
    with pytest.raises(KioskError) as info:                            # single use, also end to end
        service.pair(host, code, check)
    assert info.value.key == "pairing_code_used" and info.value.situation is Situation.CONNECTION_CHANGE


def test_scanned_line_alone_fills_every_field(sync_server, ledger, kiosk):
    service, _file, _slot = kiosk
    new_recorder(sync_server, "PAIR2")
    host, code, check = pair_code(sync_server, "PAIR2")
    line = proto.scan_line(host, proto.normalise(code), proto.normalise(check))
    assert service.pair("", line, "").connection.recorder == "PAIR2"


def test_wrong_check_code_refuses_before_the_code_is_sent(sync_server, ledger, kiosk):
    service, file, slot = kiosk
    new_recorder(sync_server, "PAIR3")
    host, code, check = pair_code(sync_server, "PAIR3")
    wrong = ("3" if check[0] != "3" else "4") + check[1:]
    with pytest.raises(KioskError) as info:
        service.pair(host, code, wrong)
    assert info.value.key == "pairing_pin_mismatch" and info.value.situation is Situation.INITIAL_SETUP
    assert not file.exists() and slot.get() is None
    assert service.pair(host, code, check).connection.recorder == "PAIR3"   # the code was never spent


def impostor(tmp_path, ca_pem: str) -> ScriptedHttps:
    """An HTTPS server with its own CA (not the real server's), answering /pair/ca with ``ca_pem``."""
    create_local_ca(tmp_path / "evil-tls", ["127.0.0.1"])
    server = ScriptedHttps(tmp_path / "evil-tls", tmp_path / "evil")
    server.play(json_answer(200, {"ca_pem": ca_pem}), json_answer(200, {"connection_string": "x", "certificate": "y"}))
    return server


def test_impostors_get_no_code(sync_server, ledger, kiosk, tmp_path):
    service, _file, _slot = kiosk
    new_recorder(sync_server, "PAIR4")
    _host, code, check = pair_code(sync_server, "PAIR4")
    own_ca = (tmp_path / "evil-tls" / "ca.pem")
    real_ca = (sync_server.process.tls_dir / "ca.pem").read_text("ascii")
    server = impostor(tmp_path, "")
    try:
        server.play(json_answer(200, {"ca_pem": own_ca.read_text("ascii")}))     # shows its own CA
        with pytest.raises(KioskError) as info:
            service.pair(f"127.0.0.1:{server.port}", code, check)
        assert info.value.key == "pairing_pin_mismatch"
        script = server.play(json_answer(200, {"ca_pem": real_ca}))             # relays the real CA
        with pytest.raises(KioskError) as info:
            service.pair(f"127.0.0.1:{server.port}", code, check)
        assert info.value.code == "006"                                          # its TLS is not of that CA
        assert [method for method, _path, _t in script.requests] == ["GET"]      # no POST: the code stayed home
    finally:
        server.close()


def plain_listener() -> tuple[socket.socket, int]:
    """A TCP port that answers in plain HTTP (no TLS)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(4)

    def serve() -> None:
        while True:
            try:
                conn, _ = sock.accept()
            except OSError:
                return
            conn.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
            conn.close()
    threading.Thread(target=serve, daemon=True).start()
    return sock, sock.getsockname()[1]


def test_unreachable_and_tls_failures_are_004_and_006(kiosk):
    service, _file, _slot = kiosk
    with pytest.raises(KioskError) as info:
        service.pair(f"127.0.0.1:{free_port()}", "ABCD-EFGH", "ABCD-EFGH-JKLM-NPQR")
    assert info.value.code == "004"
    sock, port = plain_listener()
    try:
        with pytest.raises(KioskError) as info:
            service.pair(f"127.0.0.1:{port}", "ABCD-EFGH", "ABCD-EFGH-JKLM-NPQR")
        assert info.value.code == "006"
    finally:
        sock.close()


@pytest.mark.parametrize("host, code, check", [
    ("", "ABCD-EFGH", "ABCD-EFGH-JKLM-NPQR"),
    ("127.0.0.1:99999", "ABCD-EFGH", "ABCD-EFGH-JKLM-NPQR"),
    ("127.0.0.1:8443", "ABCD-EFG", "ABCD-EFGH-JKLM-NPQR"),
    ("127.0.0.1:8443", "ABCD-EFGO", "ABCD-EFGH-JKLM-NPQR"),        # O is not in the alphabet
    ("127.0.0.1:8443", "ABCD-EFGH", "ABCD-EFGH-JKLM"),
    ("127.0.0.1:8443", "dakoku-pair:127.0.0.1:ABCDEFGH", ""),
])
def test_malformed_input_is_refused_locally(kiosk, host, code, check):
    service, _file, _slot = kiosk
    with pytest.raises(KioskError) as info:
        service.pair(host, code, check)
    assert info.value.key == "pairing_input_invalid"


def test_lockout_and_server_errors_reach_the_kiosk_as_catalogue_errors(sync_server, kiosk, scripted):
    """A server (same CA) that answers the redeem with a lockout, then a 500: the kiosk shows 「…N分間…」 and 007."""
    from dakoku_core.protocol.error_body import error_body
    from cryptography.hazmat.primitives.serialization import Encoding
    from cryptography.x509 import load_pem_x509_certificate

    service, _file, _slot = kiosk
    real_ca = (sync_server.process.tls_dir / "ca.pem").read_text("ascii")
    check = proto.check_code(load_pem_x509_certificate(real_ca.encode()).public_bytes(Encoding.DER))
    locked = error_body(KioskError("pairing_locked_out", context={"minutes": 12}), "locked_out")
    scripted.play(json_answer(200, {"ca_pem": real_ca}), json_answer(429, locked, **{"Retry-After": "720"}))
    with pytest.raises(KioskError) as info:
        service.pair(f"127.0.0.1:{scripted.port}", "ABCD-EFGH", check)
    assert info.value.key == "pairing_locked_out" and "12分間" in info.value.message("ja")
    scripted.play(json_answer(200, {"ca_pem": real_ca}), json_answer(500, {}))
    with pytest.raises(KioskError) as info:
        service.pair(f"127.0.0.1:{scripted.port}", "ABCD-EFGH", check)
    assert info.value.code == "007"
    scripted.play(json_answer(200, {"ca_pem": real_ca}), json_answer(200, {"connection_string": "v=1"}))
    with pytest.raises(KioskError) as info:                           # an answer without the certificate
        service.pair(f"127.0.0.1:{scripted.port}", "ABCD-EFGH", check)
    assert info.value.code == "007"
