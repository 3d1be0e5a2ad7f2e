"""Pairing by code (ペアリングコード), shared by the kiosk and the reference server.

The server admin runs ``kiosk-server recorders pair <company> <recorder>``; it prints

- the **pairing code**: 8 characters from :data:`ALPHABET` (32 symbols, no 0/O, 1/I: 40 bits), shown grouped
  ``ABCD-EFGH``; single use, valid for minutes, stored only as a slow hash;
- the **server check code** (確認コード): the first 16 symbols (80 bits) of the SHA-256 of the server CA's DER in the
  same alphabet, shown ``ABCD-EFGH-JKLM-NPQR``. The kiosk fetches the CA over an unverified TLS connection, checks
  its hash against this, and only then sends the code, over TLS verified against that CA. 80 bits make a forged CA
  with the same check code a 2^80 search (a second preimage of SHA-256 truncated), hopeless also offline.
- the same three values as one line for a 2D barcode reader in keyboard mode: ``dakoku-pair:host:port:CODE:CHECK``.

Everything a person types is normalised: letters upper-cased, spaces and hyphens dropped. Malformed input raises
``KioskError('pairing_input_invalid')`` before anything is sent.
"""
from __future__ import annotations

import base64
import hashlib
import re
import secrets
from dataclasses import dataclass

from dakoku_core.errors import KioskError, Situation

ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"   # 32 symbols: digits and letters minus 0 1 I O
CODE_LENGTH = 8
CHECK_LENGTH = 16
PREFIX = "dakoku-pair:"
_HOST_RE = re.compile(r"^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]{1,253})(:[0-9]{1,5})?$")
_B32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"            # RFC 4648 base32, mapped onto ALPHABET
_TO_ALPHABET = str.maketrans(_B32, ALPHABET)


def _invalid(detail: str, situation: Situation | None) -> KioskError:
    return KioskError("pairing_input_invalid", situation=situation or Situation.CONNECTION_CHANGE, detail=detail)


def _symbols(data: bytes, count: int) -> str:
    return base64.b32encode(data).decode("ascii").translate(_TO_ALPHABET)[:count]


def new_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def check_code(ca_der: bytes) -> str:
    """The 16-symbol check code of a CA certificate (DER bytes)."""
    return _symbols(hashlib.sha256(ca_der).digest(), CHECK_LENGTH)


def grouped(symbols: str) -> str:
    """``ABCDEFGH`` → ``ABCD-EFGH`` (groups of four, for reading aloud and typing)."""
    return "-".join(symbols[i:i + 4] for i in range(0, len(symbols), 4))


def normalise(text: str) -> str:
    return "".join(ch for ch in text.upper() if ch not in " -\t\r\n")


def valid_symbols(text: str, length: int) -> bool:
    return len(text) == length and all(ch in ALPHABET for ch in text)


@dataclass(frozen=True)
class PairingInput:
    """What the manager typed (or a barcode reader typed): the server, the code and the check code."""

    host: str          # host or host:port ([v6]:port for IPv6)
    code: str          # 8 symbols, normalised
    check: str         # 16 symbols, normalised

    @property
    def base_url(self) -> str:
        return f"https://{self.host}/"


def scan_line(host_port: str, code: str, check: str) -> str:
    """The one line a QR code / 2D barcode carries (a reader in keyboard mode types it into the code field)."""
    return f"{PREFIX}{host_port}:{code}:{check}"


def split_scanned(text: str) -> tuple[str, str, str] | None:
    """``dakoku-pair:host:port:CODE:CHECK`` → (host:port, code, check); None when ``text`` is not such a line."""
    text = text.strip()
    if not text.lower().startswith(PREFIX):
        return None
    rest = text[len(PREFIX):]
    parts = rest.rsplit(":", 3)
    if len(parts) != 4:
        raise _invalid("scanned line is not dakoku-pair:host:port:CODE:CHECK", None)
    host, port, code, check = parts
    return f"{host}:{port}", code, check


def parse_input(host: str, code: str, check: str, situation: Situation | None = None) -> PairingInput:
    """Check the three typed values (a scanned line in ``code`` fills all three)."""
    scanned = split_scanned(code)
    if scanned is not None:
        host, code, check = scanned
    host = host.strip().lower()
    if host.startswith("https://"):
        host = host[len("https://"):]
    host = host.rstrip("/")
    match = _HOST_RE.match(host)
    if not match or (match.group(2) and not 0 < int(match.group(2)[1:]) < 65536):
        raise _invalid("server address must be host or host:port", situation)
    code, check = normalise(code), normalise(check)
    if not valid_symbols(code, CODE_LENGTH):
        raise _invalid(f"pairing code must be {CODE_LENGTH} symbols of the pairing alphabet", situation)
    if not valid_symbols(check, CHECK_LENGTH):
        raise _invalid(f"check code must be {CHECK_LENGTH} symbols of the pairing alphabet", situation)
    return PairingInput(host, code, check)
