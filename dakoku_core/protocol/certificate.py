"""The recorder certificate (証明書): pasteable text holding the recorder's Ed25519 private key.

The server issues it when a recorder is created or its certificate renewed; renewing revokes the old key
id, so every kiosk still holding the old text gets ``certificate_invalid`` (012). Format::

    -----BEGIN DAKOKU RECORDER CERTIFICATE-----
    <base64 of a UTF-8 JSON object, wrapped at 64 columns>
    -----END DAKOKU RECORDER CERTIFICATE-----

The JSON object (version 1)::

    {"v": 1, "key_id": "k_<32 hex>", "company": "C001", "recorder": "R001",
     "private_key": "<base64url of the 32-byte Ed25519 seed, no padding>",
     "issued_at": "2025-01-01T00:00:00+00:00", "ca_pem": "<PEM of the server's CA, or empty>",
     "check": "<first 8 hex of sha256 over key_id|company|recorder|private_key>"}

``check`` catches a certificate spliced together from two pastes. The key id travels with every request
(``X-Dakoku-Key-Id``); the private key never leaves the kiosk. Anything malformed raises
``KioskError('certificate_invalid')`` (catalogue code 012).
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
import textwrap
from dataclasses import dataclass
from datetime import datetime

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.x509 import load_pem_x509_certificate

from dakoku_core.errors import KioskError, Situation

BEGIN = "-----BEGIN DAKOKU RECORDER CERTIFICATE-----"
END = "-----END DAKOKU RECORDER CERTIFICATE-----"
KEY_ID_RE = re.compile(r"^k_[0-9a-f]{32}$")
_BLOCK_RE = re.compile(re.escape(BEGIN) + r"(.*?)" + re.escape(END), re.S)


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def raw_public_key(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def raw_private_key(key: Ed25519PrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                             serialization.NoEncryption())


def ca_fingerprint(ca_pem: str) -> str:
    """``sha256:<hex>`` of the CA certificate's DER: the pin carried in the connection string."""
    cert = load_pem_x509_certificate(ca_pem.encode("ascii"))
    return "sha256:" + cert.fingerprint(hashes.SHA256()).hex()


def _check_value(key_id: str, company: str, recorder: str, private_key_b64: str) -> str:
    joined = "|".join((key_id, company, recorder, private_key_b64)).encode("utf-8")
    return hashlib.sha256(joined).hexdigest()[:8]


@dataclass(frozen=True)
class RecorderCertificate:
    key_id: str
    company: str
    recorder: str
    private_key: Ed25519PrivateKey
    issued_at: str = ""
    ca_pem: str = ""

    @property
    def public_key_raw(self) -> bytes:
        return raw_public_key(self.private_key.public_key())

    def format(self) -> str:
        private_b64 = b64url(raw_private_key(self.private_key))
        body = {"v": 1, "key_id": self.key_id, "company": self.company, "recorder": self.recorder,
                "private_key": private_b64, "issued_at": self.issued_at, "ca_pem": self.ca_pem,
                "check": _check_value(self.key_id, self.company, self.recorder, private_b64)}
        encoded = base64.b64encode(json.dumps(body, ensure_ascii=False).encode("utf-8")).decode("ascii")
        return "\n".join([BEGIN, *textwrap.wrap(encoded, 64), END]) + "\n"

    def __repr__(self) -> str:  # never print the private key by accident
        return f"RecorderCertificate(key_id={self.key_id!r}, company={self.company!r}, recorder={self.recorder!r})"


def issue_certificate(key_id: str, company: str, recorder: str, *, ca_pem: str = "",
                      issued_at: datetime | None = None) -> RecorderCertificate:
    """A fresh key pair for a recorder (server side)."""
    stamp = issued_at.isoformat() if issued_at else ""
    return RecorderCertificate(key_id, company, recorder, Ed25519PrivateKey.generate(), stamp, ca_pem)


def _invalid(detail: str) -> KioskError:
    return KioskError("certificate_invalid", situation=Situation.CONNECTION_CHANGE, detail=detail)


def _decode_body(text: str) -> dict:
    match = _BLOCK_RE.search(text)
    if not match:
        raise _invalid("no BEGIN/END DAKOKU RECORDER CERTIFICATE block")
    try:
        raw = base64.b64decode("".join(match.group(1).split()), validate=True)
        body = json.loads(raw.decode("utf-8"))
    except RecursionError:       # JSON nested too deep for the parser: no certificate looks like that
        raise _invalid("undecodable body: nested too deep") from None
    except (binascii.Error, ValueError) as exc:
        raise _invalid(f"undecodable body: {exc}") from None
    if not isinstance(body, dict) or body.get("v") != 1:
        raise _invalid("not a version 1 certificate")
    return body


def _field(body: dict, name: str) -> str:
    value = body.get(name, "")
    if not isinstance(value, str):
        raise _invalid(f"{name} must be text")
    return value


def parse_certificate(text: str) -> RecorderCertificate:
    """Parse pasted certificate text (line breaks, CRLF and surrounding text are tolerated)."""
    if not isinstance(text, str):
        raise _invalid("not text")
    body = _decode_body(text)
    key_id, company, recorder = _field(body, "key_id"), _field(body, "company"), _field(body, "recorder")
    private_b64, ca_pem = _field(body, "private_key"), _field(body, "ca_pem")
    if not KEY_ID_RE.match(key_id) or not company or not recorder:
        raise _invalid("bad key_id, company or recorder")
    if _field(body, "check") != _check_value(key_id, company, recorder, private_b64):
        raise _invalid("check value does not match")
    try:
        private_key = Ed25519PrivateKey.from_private_bytes(b64url_decode(private_b64))
    except (ValueError, binascii.Error) as exc:
        raise _invalid(f"bad private key: {exc}") from None
    if ca_pem:
        try:
            load_pem_x509_certificate(ca_pem.encode("ascii"))
        except ValueError as exc:
            raise _invalid(f"bad CA certificate: {exc}") from None
    return RecorderCertificate(key_id, company, recorder, private_key, _field(body, "issued_at"), ca_pem)


def check_pair(connection, certificate: RecorderCertificate) -> None:
    """The connection string and the certificate must name the same recorder (and CA, when pinned)."""
    if (connection.company, connection.recorder) != (certificate.company, certificate.recorder):
        raise _invalid("certificate is for another recorder")
    if connection.ca_pin:
        if not certificate.ca_pem or ca_fingerprint(certificate.ca_pem) != connection.ca_pin:
            raise _invalid("CA in the certificate does not match the connection string's pin")
