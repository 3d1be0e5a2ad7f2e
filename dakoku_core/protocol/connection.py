"""The connection string (接続文字列): one pasteable line that names the server and the recorder.

Format (version 1), ``;``-separated ``name=value`` pairs, values percent-encoded (RFC 3986)::

    v=1;url=https://attendance.example.jp:8443/;company=C001;recorder=R001;department=D01;device=card

- ``v``          format version, ``1``.
- ``url``        the Recorder API base URL; ``https`` only (TLS verification is always on).
- ``company``    company code; ``recorder`` recorder code; ``department`` the recorder's department code.
  Codes are 1-32 characters of ``A-Z a-z 0-9 _ -``.
- ``device``     the authentication device type: ``card``, ``fingerprint`` or ``none`` (password only).
- ``ca``         optional ``sha256:<64 hex>``: the fingerprint of the CA certificate carried in the recorder
  certificate; when present the kiosk must use that CA (and only it) to verify the server.

Unknown names are refused (a typo must not pass silently). Anything malformed raises
``KioskError('connection_string_invalid')`` (catalogue code 000).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import quote, unquote, urlsplit

from dakoku_core.errors import KioskError, Situation

VERSION = "1"
DEVICE_TYPES = ("card", "fingerprint", "none")
CODE_RE = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
CA_PIN_RE = re.compile(r"^sha256:[0-9a-f]{64}$")
_REQUIRED = ("v", "url", "company", "recorder", "department", "device")
_OPTIONAL = ("ca",)


@dataclass(frozen=True)
class ConnectionString:
    url: str
    company: str
    recorder: str
    department: str
    device: str = "card"
    ca_pin: str = ""

    @property
    def base_url(self) -> str:
        """The API base URL, always ending with ``/``."""
        return self.url if self.url.endswith("/") else self.url + "/"

    def format(self) -> str:
        pairs = [("v", VERSION), ("url", self.url), ("company", self.company), ("recorder", self.recorder),
                 ("department", self.department), ("device", self.device)]
        if self.ca_pin:
            pairs.append(("ca", self.ca_pin))
        return ";".join(f"{name}={quote(value, safe=':/.@[]')}" for name, value in pairs)

    def __str__(self) -> str:
        return self.format()


def _invalid(detail: str) -> KioskError:
    return KioskError("connection_string_invalid", situation=Situation.CONNECTION_CHANGE, detail=detail)


def _split_pairs(text: str) -> dict[str, str]:
    fields: dict[str, str] = {}
    for part in text.split(";"):
        if not part:
            continue
        name, sep, value = part.partition("=")
        name = name.strip().lower()
        if not sep or not name:
            raise _invalid(f"not name=value: {part[:40]!r}")
        if name not in _REQUIRED and name not in _OPTIONAL:
            raise _invalid(f"unknown field {name!r}")
        if name in fields:
            raise _invalid(f"field {name!r} given twice")
        fields[name] = unquote(value.strip())
    return fields


def _check_url(url: str) -> str:
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError as exc:
        raise _invalid(f"bad url: {exc}") from None
    if parts.scheme != "https" or not parts.hostname:
        raise _invalid("url must be https://host[:port]/[path]")
    if parts.query or parts.fragment or parts.username or parts.password:
        raise _invalid("url must not carry a query, fragment or credentials")
    return url


def parse_connection_string(text: str) -> ConnectionString:
    """Parse a pasted connection string (surrounding whitespace and line breaks are ignored)."""
    if not isinstance(text, str):
        raise _invalid("not text")
    fields = _split_pairs("".join(text.split()))
    missing = [name for name in _REQUIRED if not fields.get(name)]
    if missing:
        raise _invalid(f"missing {', '.join(missing)}")
    if fields["v"] != VERSION:
        raise _invalid(f"unsupported version {fields['v']!r}")
    for name in ("company", "recorder", "department"):
        if not CODE_RE.match(fields[name]):
            raise _invalid(f"bad {name} code")
    if fields["device"] not in DEVICE_TYPES:
        raise _invalid(f"device must be one of {DEVICE_TYPES}")
    ca_pin = fields.get("ca", "").lower()
    if ca_pin and not CA_PIN_RE.match(ca_pin):
        raise _invalid("ca must be sha256:<64 hex digits>")
    return ConnectionString(url=_check_url(fields["url"]), company=fields["company"],
                            recorder=fields["recorder"], department=fields["department"],
                            device=fields["device"], ca_pin=ca_pin)
