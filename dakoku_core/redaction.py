"""What must never reach a log, for the kiosk and the server alike (no Kivy, no web framework here).

- Timecard tokens in ``/timecard/<token>`` paths (issue 10, item 6): anyone who reads one could open that
  employee's timecard until the link expires. The server's access and error logs use :func:`redact_timecard`
  (dakoku_server/log_redaction.py); the kiosk's log uses all the rules through :func:`redact`.
- Card IDs: runs of 8 or more hex digits (a FeliCa IDm is 16, a MIFARE UID 8 or 14; a keyboard-wedge reader's
  decimal ID is a digit run too), also written as bytes with spaces or colons (pyscard's ``04 A2 3B ...``).
  A UUID (a punch's ID, useful to support) is kept whole.
- Passwords, PINs, keys, certificates and templates written as ``name=value`` / ``"name": "value"``.
- Templates and keys written out: ``b'...'`` byte strings holding binary data, long base64 blobs.
"""
from __future__ import annotations

import re

TIMECARD_TOKEN = re.compile(r"/timecard/[^\s\"'?#]+")
TIMECARD_REDACTED = "/timecard/[redacted]"
CARD = "[card]"
SECRET = "[redacted]"
BLOB = "[data]"

_UUID = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
_CARD_OR_UUID = re.compile(rf"(?<![0-9A-Za-z_-])(?:(?P<uuid>{_UUID})|[0-9a-fA-F]{{8,}}"
                           r"|(?:[0-9a-fA-F]{2}[ :]){3,}[0-9a-fA-F]{2})(?![0-9A-Za-z_-])")
_SECRET_NAMES = r"password|passwd|pin|manager_pin|pin_hash|secret|token|template|certificate|private_key|key"
_SECRET_VALUE = re.compile(rf"(?i)(?P<name>\b(?:{_SECRET_NAMES})\b[\"']?\s*[:=]\s*)(?!\[redacted\])"
                           r"(?P<value>\"[^\"]*\"|'[^']*'|[^\s,;)}\]]+)")
_BYTES = re.compile(r"\bb(?P<q>['\"])(?:\\.|(?!(?P=q)).)*(?P=q)")
_BASE64ISH = re.compile(r"[A-Za-z0-9+/_-]{32,}={0,2}")


def redact_timecard(text: str) -> str:
    return TIMECARD_TOKEN.sub(TIMECARD_REDACTED, text) if "/timecard/" in text else text


def _bytes(match: re.Match) -> str:   # binary data (a template, a key); b"Couldn't open ..." stays readable
    text = match.group(0)
    return BLOB if "\\x" in text or len(text) > 64 else text


def _card(match: re.Match) -> str:
    return match.group("uuid") or CARD


def _blob(match: re.Match) -> str:
    run = match.group(0)
    mixed = any(c.isdigit() for c in run) and any(c.isupper() for c in run) and any(c.islower() for c in run)
    return BLOB if mixed else run


def redact(text: str) -> str:
    """``text`` with every rule of this module applied (idempotent: redacting twice changes nothing)."""
    text = redact_timecard(text)
    text = _SECRET_VALUE.sub(lambda m: m.group("name") + SECRET, text)
    text = _BYTES.sub(_bytes, text)
    text = _BASE64ISH.sub(_blob, text)
    return _CARD_OR_UUID.sub(_card, text)
