"""Every coded network error, produced by a real peer on loopback, reaches the kiosk as the right catalogue
code with the right message variant (接続先変更: データの取得に失敗しました / データ更新: データの更新に失敗しました)."""
from __future__ import annotations

import shutil

import pytest

from kiosk.adapters.recorder_client import KioskRecorderClient, RetryPolicy
from dakoku_core.errors import KioskError, Situation
from dakoku_core.protocol.certificate import parse_certificate
from dakoku_server import admin, recorders
from dakoku_server.tls import create_local_ca

from .fault_proxy import FaultProxy
from .harness import Tinyproxy, free_port, json_answer

pytestmark = pytest.mark.timeout(60)
FETCH, UPDATE = "データの取得に失敗しました", "データの更新に失敗しました"


def fails(call, situation=Situation.DATA_UPDATE) -> KioskError:
    with pytest.raises(KioskError) as info:
        call(situation)
    return info.value


def assert_variants(client_call, code: str) -> None:
    """The same failure during データ更新 and during 接続先変更: one code, the two seed messages."""
    update = fails(client_call, Situation.DATA_UPDATE)
    change = fails(client_call, Situation.CONNECTION_CHANGE)
    assert (update.code, change.code) == (code, code), (update, change)
    assert (update.message("ja"), change.message("ja")) == (UPDATE, FETCH)


def test_master_data_pull_304_and_incremental(sync_server):
    client = sync_server.demo.client()
    full = client.master_data()
    assert full.full and full.etag == f'W/"m{full.version}"'
    assert {e.code for e in full.employees} >= {"1001", "1008"}
    assert full.recorder.code == "R001" and len(full.card_key) == 32
    assert client.master_data(etag=full.etag) is None
    assert client.master_data(since=full.version).full is False


def test_refused_port_is_004(sync_server):
    client = sync_server.demo.client(f"https://127.0.0.1:{free_port()}/")
    assert_variants(lambda s: client.master_data(situation=s), "004")
    assert client.attempts == 2 * client.retry.attempts        # connection errors are retried


def test_stall_is_005(sync_server):
    with FaultProxy(sync_server.process.port, "stall") as proxy:
        client = sync_server.demo.client(proxy.url, timeout=(1.0, 0.5),
                                         retry=RetryPolicy(attempts=2, initial_wait=0.01, max_wait=0.02))
        assert_variants(lambda s: client.master_data(situation=s), "005")
        assert client.attempts == 4


def test_wrong_ca_is_006_and_not_retried(sync_server, tmp_path):
    other = create_local_ca(tmp_path / "other-ca", ["127.0.0.1"])
    client = sync_server.demo.client(ca_file=str(other.ca_cert))
    assert_variants(lambda s: client.master_data(situation=s), "006")
    assert client.attempts == 2


def test_tls_garbage_is_006(sync_server):
    with FaultProxy(sync_server.process.port, "garbage") as proxy:
        client = sync_server.demo.client(proxy.url)
        assert_variants(lambda s: client.master_data(situation=s), "006")


@pytest.fixture
def tinyproxy(sync_server, tmp_path):
    if shutil.which("tinyproxy") is None:
        pytest.skip("tinyproxy is not installed (apt tinyproxy; scripts/setup.sh should install it)")
    proxy = Tinyproxy(tmp_path, sync_server.process.port, "kiosk", "s3cret")
    try:
        yield proxy
    finally:
        proxy.stop()


def test_proxy_with_credentials_works_and_407_is_006(sync_server, tinyproxy, monkeypatch):
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:9")       # an explicit proxy wins over the env
    good = sync_server.demo.client(proxy_url=tinyproxy.url(), proxy_username="kiosk", proxy_password="s3cret")
    assert good.master_data().recorder.code == "R001"
    wrong = sync_server.demo.client(proxy_url=tinyproxy.url(), proxy_username="kiosk", proxy_password="nope")
    assert_variants(lambda s: wrong.master_data(situation=s), "006")
    missing = sync_server.demo.client(proxy_url=tinyproxy.url())
    assert fails(lambda s: missing.master_data(situation=s)).code == "006"


def test_environment_proxy_is_used(sync_server, tinyproxy, monkeypatch):
    monkeypatch.setenv("HTTPS_PROXY", f"http://kiosk:s3cret@127.0.0.1:{tinyproxy.port}")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    assert sync_server.demo.client().master_data().recorder.code == "R001"
    monkeypatch.setenv("HTTPS_PROXY", f"http://kiosk:bad@127.0.0.1:{tinyproxy.port}")
    assert fails(lambda s: sync_server.demo.client().master_data(situation=s)).code == "006"


@pytest.mark.parametrize("answer", [
    (200, {"Content-Type": "application/json"}, b"\x00\xffnot json at all"),
    (500, {"Content-Type": "text/html"}, b"<html>Internal Server Error</html>"),
    json_answer(200, {"version": "seven", "full": True}),
], ids=["garbage-body", "500-html", "schema-invalid"])
def test_unreadable_or_error_answers_are_007(sync_server, scripted, answer):
    scripted.play(answer)
    client = sync_server.demo.client(scripted.url)
    assert_variants(lambda s: client.master_data(situation=s), "007")


def test_schema_invalid_punch_results_are_007(sync_server, scripted):
    from .conftest import make_punches
    scripted.play(json_answer(200, {"results": [{"uuid": "x", "status": "maybe"}]}))
    client = sync_server.demo.client(scripted.url)
    with pytest.raises(KioskError) as info:
        client.upload_punches(make_punches("E1", 1))
    assert info.value.code == "007"


def test_unknown_route_is_007(sync_server):
    client = sync_server.demo.client()
    with pytest.raises(KioskError) as info:
        client._call("GET", "v1/no-such-thing", Situation.DATA_UPDATE)
    assert (info.value.code, info.value.message("ja")) == ("007", UPDATE)


def test_ip_not_allowed_is_009(sync_server):
    client = sync_server.ipco.client()
    for situation in (Situation.DATA_UPDATE, Situation.CONNECTION_CHANGE):
        error = fails(lambda s: client.master_data(situation=s), situation)
        assert (error.code, error.message("ja")) == ("009", "アクセス元のIPが許可されていません")
    assert client.attempts == 2                                   # a 403 is never retried


def test_renewed_certificate_is_012(sync_server):
    client = sync_server.renewable.client()
    assert client.master_data().recorder.code == "R002"
    sync_server.bind()
    recorders.renew_certificate(admin.company("DEMO"), "R002", server_url=sync_server.process.url)
    error = fails(lambda s: client.master_data(situation=s))
    assert (error.code, error.message("ja"), error.detail) == ("012", "証明書が正しくありません", "key_revoked")
    assert client.attempts == 2


def test_pin_mismatch_is_012(sync_server, tmp_path):
    other = create_local_ca(tmp_path / "other-ca", ["127.0.0.1"])
    cert = parse_certificate(sync_server.demo.certificate_text)
    forged = cert.__class__(cert.key_id, cert.company, cert.recorder, cert.private_key, cert.issued_at,
                            other.ca_cert.read_text())
    with pytest.raises(KioskError) as info:
        KioskRecorderClient(sync_server.demo.connection, forged)
    assert info.value.code == "012"


# -- retries ------------------------------------------------------------------------------------------------
def test_5xx_then_success_is_retried(sync_server, scripted):
    script = scripted.play(json_answer(503, {}), json_answer(502, {}), json_answer(200, {
        "server_time": "2025-01-01T00:00:00+00:00", "epoch": 1735689600.0, "timezone": "Asia/Tokyo"}))
    answer = sync_server.demo.client(scripted.url).server_time()
    assert answer.epoch == 1735689600.0 and len(script.requests) == 3


def test_429_honours_retry_after(sync_server, scripted):
    slept = []
    script = scripted.play(json_answer(429, {}, **{"Retry-After": "2"}),
                           json_answer(200, {"epoch": 1.0, "timezone": "UTC"}))
    client = sync_server.demo.client(scripted.url, sleep=slept.append)
    assert client.server_time().epoch == 1.0
    assert slept == [2.0] and len(script.requests) == 2


def test_429_for_ever_ends_as_007(sync_server, scripted):
    scripted.play(json_answer(429, {}, **{"Retry-After": "0"}))
    client = sync_server.demo.client(scripted.url, sleep=lambda s: None)
    assert fails(lambda s: client.server_time(s)).code == "007"
    assert client.attempts == client.retry.attempts


@pytest.mark.parametrize("status, key", [(400, "unexpected"), (401, "certificate_invalid"),
                                         (403, "ip_not_allowed")])
def test_other_4xx_are_never_retried(sync_server, scripted, status, key):
    script = scripted.play(json_answer(status, {"error": {"key": key, "reason": "scripted"}}))
    client = sync_server.demo.client(scripted.url, sleep=lambda s: None)
    assert fails(lambda s: client.server_time(s)).key == key
    assert len(script.requests) == 1
