"""Pairing codes on the reference server (Flask test client, a SQLite file per test): what a code gives, to whom,
how long, how often, and what a guesser meets (expiry, single use, lockout per address and overall, scope)."""
from __future__ import annotations

import sqlite3
from datetime import timedelta

import pytest
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509 import load_pem_x509_certificate

from dakoku_core.protocol import pairing as proto
from dakoku_core.protocol.certificate import check_pair, parse_certificate
from dakoku_core.protocol.connection import parse_connection_string
from dakoku_server import admin, db, pairing_store, recorders
from dakoku_server.app import ServerConfig, create_app
from dakoku_server.tls import create_local_ca

pytestmark = pytest.mark.timeout(120)
URL = "https://pair.example.jp:8443/"


@pytest.fixture
def site(tmp_path):
    previous = db.database.obj
    path = tmp_path / "pair.sqlite"
    db.open_database(f"sqlite:///{path}")
    db.create_tables()
    files = create_local_ca(str(tmp_path / "tls"), ["pair.example.jp"])
    db.set_setting("ca_pem", files.ca_cert.read_text("ascii"))
    for code in ("ACME", "OTHER"):
        comp = admin.add_company(code, code)
        admin.add_department(comp, "HQ", "本社")
        recorders.add_recorder(comp, "R1", "HQ", server_url=URL)
    app = create_app(ServerConfig(db_url=f"sqlite:///{path}"))
    try:
        yield app, path
    finally:
        db.database.close()
        db.database.initialize(previous)


def redeem(app, code: str, address: str = "192.0.2.10"):
    client = app.test_client()
    return client.post("/pair/redeem", json={"code": code}, environ_base={"REMOTE_ADDR": address})


def issue(company: str = "ACME", recorder: str = "R1", **kwargs) -> pairing_store.IssuedCode:
    return pairing_store.issue(admin.company(company), recorder, server_url=URL, **kwargs)


def error_key(response) -> str:
    return response.get_json()["error"]["key"]


def test_a_code_gives_the_recorder_its_texts_once_and_renews_its_key(site):
    app, path = site
    old_key = [k.key_id for k in recorders.recorder(admin.company("ACME"), "R1").keys if k.revoked_at is None]
    issued = issue()
    assert proto.valid_symbols(issued.code, 8) and proto.valid_symbols(issued.check, 16)
    answer = redeem(app, proto.grouped(issued.code).lower())          # typed grouped and in lower case
    assert answer.status_code == 200 and answer.headers["Cache-Control"] == "no-store"
    connection = parse_connection_string(answer.get_json()["connection_string"])
    certificate = parse_certificate(answer.get_json()["certificate"])
    check_pair(connection, certificate)
    assert (connection.company, connection.recorder, connection.url) == ("ACME", "R1", URL)
    ca_der = load_pem_x509_certificate(certificate.ca_pem.encode()).public_bytes(Encoding.DER)
    assert proto.check_code(ca_der) == issued.check                   # what the CLI printed is this CA's
    live = [k.key_id for k in recorders.recorder(admin.company("ACME"), "R1").keys if k.revoked_at is None]
    assert live == [certificate.key_id] and certificate.key_id not in old_key
    again = redeem(app, issued.code)
    assert (again.status_code, error_key(again)) == (410, "pairing_code_used")
    with sqlite3.connect(path) as conn:                                # only a hash is kept
        dump = "\n".join(conn.iterdump())
    assert issued.code not in dump and proto.grouped(issued.code) not in dump


def test_ca_route_serves_the_ca_the_check_code_names(site):
    app, _path = site
    issued = issue()
    answer = app.test_client().get("/pair/ca")
    der = load_pem_x509_certificate(answer.get_json()["ca_pem"].encode()).public_bytes(Encoding.DER)
    assert answer.status_code == 200 and proto.check_code(der) == issued.check


def test_expired_code_is_refused(site):
    app, _path = site
    issued = issue(minutes=10, now=db.utcnow() - timedelta(minutes=10, seconds=1))
    answer = redeem(app, issued.code)
    assert (answer.status_code, error_key(answer)) == (410, "pairing_code_expired")
    fresh = issue(minutes=1)
    assert redeem(app, fresh.code).status_code == 200


def test_scope_a_code_is_for_its_recorder_and_a_new_code_drops_the_old(site):
    app, _path = site
    first = issue()
    second = issue()                                  # the recorder's older unused code dies
    other = issue("OTHER")
    assert error_key(redeem(app, first.code)) == "pairing_code_invalid"
    other_texts = redeem(app, other.code).get_json()
    assert parse_connection_string(other_texts["connection_string"]).company == "OTHER"
    assert parse_certificate(other_texts["certificate"]).company == "OTHER"
    assert parse_connection_string(redeem(app, second.code).get_json()["connection_string"]).company == "ACME"


def test_company_allow_list_applies_and_keeps_the_code(site):
    app, _path = site
    admin.allow_ip(admin.company("ACME"), "192.0.2.99")
    issued = issue()
    refused = redeem(app, issued.code, "192.0.2.10")
    assert (refused.status_code, error_key(refused), refused.get_json()["error"]["code"]) == (403, "ip_not_allowed",
                                                                                                "009")
    assert redeem(app, issued.code, "192.0.2.99").status_code == 200


def test_five_wrong_codes_lock_the_address_not_the_others(site):
    app, _path = site
    issued = issue()
    wrong = "22222222" if issued.code != "22222222" else "33333333"
    for _ in range(pairing_store.ADDRESS_LIMIT):
        assert error_key(redeem(app, wrong, "198.51.100.7")) == "pairing_code_invalid"
    locked = redeem(app, issued.code, "198.51.100.7")                  # even the right code
    body = locked.get_json()["error"]
    assert (locked.status_code, body["key"]) == (429, "pairing_locked_out")
    assert body["context"]["minutes"] == 15 and locked.headers["Retry-After"] == "900"
    assert redeem(app, issued.code, "198.51.100.8").status_code == 200  # another address is not locked


def test_ipv6_addresses_count_per_64(site):
    app, _path = site
    for n in range(pairing_store.ADDRESS_LIMIT):
        redeem(app, "22222222", f"2001:db8:1:2::{n + 1}")               # a new address each time, same /64
    assert error_key(redeem(app, "22222222", "2001:db8:1:2::99")) == "pairing_locked_out"
    assert error_key(redeem(app, "22222222", "2001:db8:1:3::1")) == "pairing_code_invalid"


def test_lock_lifts_when_the_window_passes(site):
    app, _path = site
    start = db.utcnow()
    for _ in range(pairing_store.ADDRESS_LIMIT):
        pairing_store.redeem("22222222", "203.0.113.5", allowed=lambda *_: True, now=start)
    assert pairing_store.locked_minutes("203.0.113.5", start + timedelta(minutes=1)) == 14
    assert pairing_store.locked_minutes("203.0.113.5", start + pairing_store.WINDOW + timedelta(seconds=1)) == 0


def test_many_addresses_together_lock_pairing_for_everyone(site):
    app, _path = site
    issued = issue()
    for n in range(pairing_store.GLOBAL_LIMIT):                        # malformed: no hash work, still counted
        address = f"10.{n // 250}.{n % 250}.1"
        assert error_key(redeem(app, "0000", address)) == "pairing_code_invalid"
    assert error_key(redeem(app, issued.code, "192.0.2.200")) == "pairing_locked_out"


def test_bad_bodies_and_cli_limits(site):
    app, _path = site
    client = app.test_client()
    assert error_key(client.post("/pair/redeem", json={"code": 12})) == "unexpected"
    assert error_key(client.post("/pair/redeem", json={"code": "x", "extra": 1})) == "unexpected"
    with pytest.raises(admin.AdminError):
        issue(minutes=0)
    with pytest.raises(admin.AdminError):
        issue(recorder="NOPE")
    db.set_setting("ca_pem", "")
    with pytest.raises(admin.AdminError, match="tls init"):
        issue()
    answer = client.get("/pair/ca")
    assert (answer.status_code, answer.get_json()["error"]["reason"]) == (404, "pairing_not_available")


def test_brute_force_odds_are_hopeless():
    """The figure docs/server.md quotes: a guess per failure allowed overall, against a few live codes."""
    codes_alive, guesses_per_window = 10, pairing_store.GLOBAL_LIMIT
    windows_per_code_life = 1                                           # 10 minutes < one 15-minute window
    odds = codes_alive * guesses_per_window * windows_per_code_life / len(proto.ALPHABET) ** proto.CODE_LENGTH
    assert odds < 1e-9
