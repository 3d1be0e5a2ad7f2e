"""Request signing: every Recorder API request carries an Ed25519 signature by the recorder's key.

The signed text (UTF-8, ``\\n``-joined, no trailing newline)::

    DAKOKU-ED25519-V1
    <METHOD, upper case>
    <path and query exactly as sent, e.g. /v1/master?since=12>
    <timestamp: Unix seconds, decimal>
    <nonce: 16-64 chars of A-Z a-z 0-9 _ ->
    <key id>
    <lower-case hex SHA-256 of the body bytes (of b"" when there is no body)>

Headers: ``X-Dakoku-Key-Id``, ``X-Dakoku-Timestamp``, ``X-Dakoku-Nonce``, ``X-Dakoku-Signature``
(base64url, no padding). The server refuses a timestamp outside its window (default ±300 s) and a nonce
it has seen before for that key. Each attempt of a retried request must be signed afresh.

The timestamp is the kiosk's corrected time, not the machine clock: the composition root hands the kiosk's
clock to :func:`use_clock` (one kiosk per process, like the ledger), so a kiosk whose machine clock is a day
off still signs within the window once it has measured the right time.
"""
from __future__ import annotations

import hashlib
import re
import secrets
import time
from dataclasses import dataclass
from typing import Callable, Mapping

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from dakoku_core.protocol.certificate import b64url, b64url_decode

SCHEME = "DAKOKU-ED25519-V1"
H_KEY_ID = "X-Dakoku-Key-Id"
H_TIMESTAMP = "X-Dakoku-Timestamp"
H_NONCE = "X-Dakoku-Nonce"
H_SIGNATURE = "X-Dakoku-Signature"
NONCE_RE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
TIMESTAMP_RE = re.compile(r"^[0-9]{1,12}$")
_clock: Callable[[], float] = time.time


def use_clock(now: Callable[[], float] | None) -> None:
    """Sign with ``now()`` (Unix seconds: the kiosk's corrected time); None goes back to the machine clock."""
    global _clock
    _clock = now or time.time


def signing_time() -> float:
    return _clock()


class SignatureProblem(Exception):
    """Why a request's signature headers were refused; ``reason`` is a stable short word."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class SignedHeaders:
    key_id: str
    timestamp: int
    nonce: str
    signature: bytes


def canonical_text(method: str, path: str, timestamp: int, nonce: str, key_id: str, body: bytes) -> bytes:
    body_hash = hashlib.sha256(body or b"").hexdigest()
    return "\n".join((SCHEME, method.upper(), path, str(timestamp), nonce, key_id, body_hash)).encode("utf-8")


def sign_request(private_key: Ed25519PrivateKey, key_id: str, method: str, path: str, body: bytes = b"",
                 *, timestamp: int | None = None, nonce: str | None = None) -> dict[str, str]:
    """The four headers to add to a request (``path`` includes the query string, if any)."""
    ts = int(signing_time()) if timestamp is None else int(timestamp)
    nonce = nonce or secrets.token_urlsafe(18)
    signature = private_key.sign(canonical_text(method, path, ts, nonce, key_id, body))
    return {H_KEY_ID: key_id, H_TIMESTAMP: str(ts), H_NONCE: nonce, H_SIGNATURE: b64url(signature)}


def read_headers(headers: Mapping[str, str]) -> SignedHeaders:
    """Pick the signature headers out of a request; raise SignatureProblem('missing_signature'|'malformed')."""
    values = [headers.get(name) for name in (H_KEY_ID, H_TIMESTAMP, H_NONCE, H_SIGNATURE)]
    if not all(values):
        raise SignatureProblem("missing_signature")
    key_id, ts, nonce, sig = (v.strip() for v in values)
    if not TIMESTAMP_RE.match(ts) or not NONCE_RE.match(nonce) or len(key_id) > 64:
        raise SignatureProblem("malformed_signature")
    try:
        signature = b64url_decode(sig)
    except ValueError:
        raise SignatureProblem("malformed_signature") from None
    return SignedHeaders(key_id, int(ts), nonce, signature)


def verify_signature(public_key_raw: bytes, signed: SignedHeaders, method: str, path: str, body: bytes) -> None:
    """Raise SignatureProblem('bad_signature') unless the signature covers exactly this request."""
    try:
        public_key = Ed25519PublicKey.from_public_bytes(public_key_raw)
        public_key.verify(signed.signature,
                          canonical_text(method, path, signed.timestamp, signed.nonce, signed.key_id, body))
    except (InvalidSignature, ValueError):
        raise SignatureProblem("bad_signature") from None


def check_timestamp(signed: SignedHeaders, now: float, window_seconds: int) -> None:
    if abs(now - signed.timestamp) > window_seconds:
        raise SignatureProblem("clock_skew")
