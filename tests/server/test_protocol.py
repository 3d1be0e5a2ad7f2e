"""dakoku_core.protocol without a server: connection string, certificate, signing, trusted proxy header."""
from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from dakoku_core.errors import KioskError
from dakoku_core.protocol.certificate import (
    RecorderCertificate, check_pair, issue_certificate, parse_certificate, raw_public_key,
)
from dakoku_core.protocol.connection import ConnectionString, parse_connection_string
from dakoku_core.protocol.signing import (
    SignatureProblem, check_timestamp, read_headers, sign_request, verify_signature,
)

pytestmark = pytest.mark.timeout(30)
GOOD = "v=1;url=https://attendance.example.jp:8443/api/;company=C001;recorder=R001;department=HQ;device=card"


def test_connection_string_round_trip():
    parsed = parse_connection_string("  " + GOOD + "\r\n")
    assert parsed == ConnectionString("https://attendance.example.jp:8443/api/", "C001", "R001", "HQ", "card")
    assert parse_connection_string(parsed.format()) == parsed


@pytest.mark.parametrize("text", [
    "", "garbage", GOOD.replace("v=1", "v=2"), GOOD.replace("https", "http"), GOOD.replace(";device=card", ""),
    GOOD.replace("device=card", "device=iris"), GOOD + ";colour=red", GOOD + ";company=X",
    GOOD.replace("R001", "R 0 0 1?"), GOOD.replace("8443", "99999"), GOOD + ";ca=sha256:abc",
    GOOD.replace("https://", "https://user:pw@"),
])
def test_bad_connection_strings_are_000(text):
    with pytest.raises(KioskError) as info:
        parse_connection_string(text)
    assert (info.value.key, info.value.code) == ("connection_string_invalid", "000")


def test_certificate_round_trip_tolerates_pasting():
    cert = issue_certificate("k_" + "a" * 32, "C001", "R001")
    pasted = "copied from the mail:\r\n" + cert.format().replace("\n", "\r\n  ") + "\nthanks"
    parsed = parse_certificate(pasted)
    assert (parsed.key_id, parsed.company, parsed.recorder) == ("k_" + "a" * 32, "C001", "R001")
    assert parsed.public_key_raw == cert.public_key_raw
    assert "private" not in repr(parsed)


def _tamper(text: str) -> str:
    lines = text.splitlines()
    middle = lines[2]
    lines[2] = middle[:10] + ("A" if middle[10] != "A" else "B") + middle[11:]
    return "\n".join(lines)


@pytest.mark.parametrize("mangle", [
    lambda t: "", lambda t: t.replace("BEGIN", "BEGIN X"), lambda t: "\n".join(t.splitlines()[:-3] + t.splitlines()[-1:]),
    _tamper, lambda t: t.replace("=", ""),
])
def test_bad_certificates_are_012(mangle):
    text = issue_certificate("k_" + "b" * 32, "C001", "R001").format()
    with pytest.raises(KioskError) as info:
        parse_certificate(mangle(text))
    assert (info.value.key, info.value.code) == ("certificate_invalid", "012")


def test_connection_and_certificate_must_match():
    connection = parse_connection_string(GOOD)
    check_pair(connection, issue_certificate("k_" + "c" * 32, "C001", "R001"))
    with pytest.raises(KioskError):
        check_pair(connection, issue_certificate("k_" + "c" * 32, "C001", "R002"))
    pinned = parse_connection_string(GOOD + ";ca=sha256:" + "0" * 64)
    with pytest.raises(KioskError):
        check_pair(pinned, issue_certificate("k_" + "c" * 32, "C001", "R001"))


def test_signature_covers_method_path_body_and_key():
    key = Ed25519PrivateKey.generate()
    headers = sign_request(key, "k_1", "POST", "/v1/punches?x=1", b'{"a":1}', timestamp=1000, nonce="n" * 20)
    signed = read_headers(headers)
    verify_signature(raw_public_key(key.public_key()), signed, "POST", "/v1/punches?x=1", b'{"a":1}')
    for method, path, body, public in [("PUT", "/v1/punches?x=1", b'{"a":1}', key.public_key()),
                                       ("POST", "/v1/punches?x=2", b'{"a":1}', key.public_key()),
                                       ("POST", "/v1/punches?x=1", b'{"a":2}', key.public_key()),
                                       ("POST", "/v1/punches?x=1", b'{"a":1}', Ed25519PrivateKey.generate().public_key())]:
        with pytest.raises(SignatureProblem, match="bad_signature"):
            verify_signature(raw_public_key(public), signed, method, path, body)
    check_timestamp(signed, 1299, 300)
    with pytest.raises(SignatureProblem, match="clock_skew"):
        check_timestamp(signed, 1301, 300)
    with pytest.raises(SignatureProblem, match="missing_signature"):
        read_headers({})
    with pytest.raises(SignatureProblem, match="malformed_signature"):
        read_headers({**headers, "X-Dakoku-Nonce": "short"})


def test_trusted_proxy_header_is_off_by_default():
    from flask import Flask
    from dakoku_server.auth import AuthConfig, client_address
    app = Flask(__name__)
    environ = {"REMOTE_ADDR": "127.0.0.1"}
    headers = {"X-Forwarded-For": "198.51.100.7, 203.0.113.9"}
    with app.test_request_context("/", headers=headers, environ_base=environ):
        from flask import request
        assert client_address(request, AuthConfig()) == "127.0.0.1"
        assert client_address(request, AuthConfig(trust_proxy_header="X-Forwarded-For")) == "203.0.113.9"


def test_repr_hides_the_private_key():
    cert = RecorderCertificate("k_" + "d" * 32, "C", "R", Ed25519PrivateKey.generate())
    assert "d" * 32 in repr(cert) and "private_key" not in repr(cert)
