"""Request authentication against the real server: replay, tampering, wrong key, renewal, clock, IP."""
from __future__ import annotations

import json
import time

import pytest
import requests
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from dakoku_core.protocol.certificate import RecorderCertificate
from dakoku_core.protocol.client import RecorderClient
from dakoku_core.protocol.signing import sign_request
from dakoku_server import admin, recorders

pytestmark = pytest.mark.timeout(60)


def error_of(response: requests.Response) -> dict:
    assert response.headers["Content-Type"].startswith("application/json"), response.text[:200]
    return response.json()["error"]


def signed_post(client: RecorderClient, path: str, body: bytes, **sign_kwargs) -> dict:
    cert = client.session.auth.certificate
    headers = sign_request(cert.private_key, cert.key_id, "POST", path, body, **sign_kwargs)
    return {**headers, "Content-Type": "application/json"}


def test_unsigned_request_is_refused(server):
    response = requests.get(server.url + "v1/master", verify=server.ca_file, timeout=10)
    assert response.status_code == 401
    assert error_of(response)["key"] == "certificate_invalid"
    assert error_of(response)["code"] == "012"
    assert error_of(response)["reason"] == "missing_signature"


def test_replayed_request_is_refused(server, client):
    body = json.dumps({"employee_key": "no-such-employee"}).encode()
    headers = signed_post(client, "/v1/help-registrations", body)
    first = requests.post(server.url + "v1/help-registrations", data=body, headers=headers,
                          verify=server.ca_file, timeout=10)
    assert error_of(first)["key"] == "employee_not_found"   # authenticated, then refused on content
    replay = requests.post(server.url + "v1/help-registrations", data=body, headers=headers,
                           verify=server.ca_file, timeout=10)
    assert replay.status_code == 401
    assert (error_of(replay)["key"], error_of(replay)["code"], error_of(replay)["reason"]) == \
        ("certificate_invalid", "012", "nonce_replayed")


def test_tampered_body_is_refused(server, client):
    signed_body = json.dumps({"employee_key": "a"}).encode()
    headers = signed_post(client, "/v1/help-registrations", signed_body)
    response = requests.post(server.url + "v1/help-registrations", data=json.dumps({"employee_key": "b"}),
                             headers=headers, verify=server.ca_file, timeout=10)
    assert response.status_code == 401
    assert (error_of(response)["code"], error_of(response)["reason"]) == ("012", "bad_signature")


def test_wrong_key_is_refused(server, client):
    real = client.session.auth.certificate
    forged = RecorderCertificate(real.key_id, real.company, real.recorder, Ed25519PrivateKey.generate())
    response = RecorderClient(client.connection, forged, ca_file=server.ca_file).master_data()
    assert response.status_code == 401
    assert (error_of(response)["key"], error_of(response)["reason"]) == ("certificate_invalid", "bad_signature")


def test_unknown_key_id_is_refused(server, client):
    real = client.session.auth.certificate
    stranger = RecorderCertificate("k_" + "0" * 32, real.company, real.recorder, Ed25519PrivateKey.generate())
    response = RecorderClient(client.connection, stranger, ca_file=server.ca_file).server_time()
    assert response.status_code == 401
    assert (error_of(response)["code"], error_of(response)["reason"]) == ("012", "unknown_key")


def test_renewed_certificate_refuses_the_old_one(server):
    old = server.client(server.extra["renewable"])
    assert old.master_data().status_code == 200
    renewed = recorders.renew_certificate(admin.company("DEMO"), "R002", server_url=server.url)
    response = old.master_data()
    assert response.status_code == 401
    assert (error_of(response)["key"], error_of(response)["code"], error_of(response)["reason"]) == \
        ("certificate_invalid", "012", "key_revoked")
    assert server.client(renewed.text()).master_data().status_code == 200


def test_clock_skew_is_refused_but_time_is_readable(server, client):
    cert = client.session.auth.certificate
    skewed = int(time.time()) - 1000
    headers = sign_request(cert.private_key, cert.key_id, "GET", "/v1/master", b"", timestamp=skewed)
    response = requests.get(server.url + "v1/master", headers=headers, verify=server.ca_file, timeout=10)
    assert response.status_code == 401
    error = error_of(response)
    assert (error["key"], error["cause_letter"], error["reason"]) == ("auth_failed", "B", "clock_skew")
    assert abs(error["server_time_epoch"] - time.time()) < 60
    headers = sign_request(cert.private_key, cert.key_id, "GET", "/v1/time", b"", timestamp=skewed)
    response = requests.get(server.url + "v1/time", headers=headers, verify=server.ca_file, timeout=10)
    assert response.status_code == 200
    assert abs(response.json()["epoch"] - time.time()) < 60


def test_address_not_in_allow_list_is_refused(server):
    ipco = server.client(server.extra["ipco"])     # IPCO allows only 127.0.0.2; we come from 127.0.0.1
    response = ipco.master_data()
    assert response.status_code == 403
    assert (error_of(response)["key"], error_of(response)["code"]) == ("ip_not_allowed", "009")
    company = admin.company("IPCO")
    admin.allow_ip(company, "127.0.0.1")
    try:
        assert ipco.master_data().status_code == 200
    finally:
        admin.disallow_ip(company, "127.0.0.1")
    assert ipco.master_data().status_code == 403


def test_tls_is_verified_against_the_local_ca(server):
    with pytest.raises(requests.exceptions.SSLError):
        requests.get(server.url + "healthz", verify=True, timeout=10)
