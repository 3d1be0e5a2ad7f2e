"""Pairing codes on the server: issue (admin CLI), redeem (the unauthenticated route in dakoku_server.pairing).

- A code is 8 symbols of :data:`dakoku_core.protocol.pairing.ALPHABET` (40 bits), bound to one recorder, valid for
  ``minutes`` (default 10), single use. Only its scrypt hash is stored (per-database salt), so the table does
  not hand out live codes. Issuing a new code for a recorder drops its older unused ones.
- Redeeming issues the recorder a new certificate (as ``recorders renew`` does: the private key is made at that
  moment and never stored; a kiosk still holding the old certificate gets 012).
- Brute force: every failed attempt is recorded with its address (an IPv6 address counts as its /64). Five
  failures from one address within 15 minutes lock that address until the window has passed; 100 failures from
  all addresses within 15 minutes lock pairing for everyone. With at most a few live codes of 2^40, the chance of
  a guess landing in a code's 10 minutes is about 10^-10 even at the global limit.
"""
from __future__ import annotations

import hashlib
import ipaddress
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import peewee as pw

from dakoku_core.protocol import pairing as proto
from dakoku_server import recorders
from dakoku_server.admin import AdminError
from dakoku_server.db import BaseModel, Company, Recorder, set_setting, setting, utcnow, write_transaction

DEFAULT_MINUTES = 10
MAX_MINUTES = 24 * 60
WINDOW = timedelta(minutes=15)
ADDRESS_LIMIT = 5
GLOBAL_LIMIT = 100
SCRYPT = {"n": 2 ** 14, "r": 8, "p": 1, "dklen": 32}


class PairingCode(BaseModel):
    recorder = pw.ForeignKeyField(Recorder, on_delete="CASCADE")
    code_hash = pw.CharField(max_length=64, unique=True)
    server_url = pw.CharField(max_length=500)
    created_at = pw.DateTimeField()
    expires_at = pw.DateTimeField()
    used_at = pw.DateTimeField(null=True)
    used_from = pw.CharField(max_length=64, default="")


class PairingFailure(BaseModel):
    address = pw.CharField(max_length=64, index=True)
    at = pw.DateTimeField(index=True)
    reason = pw.CharField(max_length=24)


MODELS = [PairingCode, PairingFailure]


@dataclass(frozen=True)
class IssuedCode:
    code: str                 # 8 symbols
    check: str                # 16 symbols: the server CA's check code
    host_port: str            # from the server URL, for the scanned line
    expires_at: datetime      # naive UTC

    def text(self) -> str:
        return (f"ペアリングコード / pairing code:  {proto.grouped(self.code)}\n"
                f"確認コード / server check code: {proto.grouped(self.check)}\n"
                f"サーバー / server:               {self.host_port}\n"
                f"有効期限 / valid until (UTC):   {self.expires_at:%Y-%m-%d %H:%M}\n"
                f"バーコード / scan line:          {proto.scan_line(self.host_port, self.code, self.check)}")


@dataclass(frozen=True)
class Refusal:
    """Why a redeem failed: the catalogue key, the HTTP status and a reason word (dakoku_server.pairing answers)."""

    status: int
    key: str
    reason: str
    minutes: int = 0


def code_hash(code: str) -> str:
    salt = setting("pairing_salt")
    if not salt:
        raise RuntimeError("pairing_salt missing: no code was ever issued from this database")
    return hashlib.scrypt(code.encode("ascii"), salt=bytes.fromhex(salt), **SCRYPT).hex()


def _ca_check() -> str:
    from cryptography.hazmat.primitives.serialization import Encoding
    from cryptography.x509 import load_pem_x509_certificate
    ca_pem = setting("ca_pem")
    if not ca_pem:
        raise AdminError("pairing needs the server's own CA (run `tls init` first): the kiosk checks it by its "
                         "check code before it trusts the server")
    return proto.check_code(load_pem_x509_certificate(ca_pem.encode("ascii")).public_bytes(Encoding.DER))


def _host_port(url: str) -> str:
    from urllib.parse import urlsplit
    parts = urlsplit(url)
    host = f"[{parts.hostname}]" if ":" in (parts.hostname or "") else parts.hostname
    return f"{host}:{parts.port or 443}"


def issue(comp: Company, recorder_code: str, *, minutes: int = DEFAULT_MINUTES,
          server_url: str | None = None, now: datetime | None = None) -> IssuedCode:
    if not 1 <= minutes <= MAX_MINUTES:
        raise AdminError(f"--minutes must be 1 to {MAX_MINUTES}")
    rec = recorders.recorder(comp, recorder_code)
    url = recorders.checked_server_url(server_url)
    check = _ca_check()
    now = now or utcnow()
    with write_transaction():
        if not setting("pairing_salt"):
            set_setting("pairing_salt", secrets.token_hex(16))
    code = proto.new_code()
    digest = code_hash(code)
    with write_transaction():
        PairingCode.delete().where((PairingCode.recorder == rec) & PairingCode.used_at.is_null()).execute()
        row = PairingCode.create(recorder=rec, code_hash=digest, server_url=url, created_at=now,
                                 expires_at=now + timedelta(minutes=minutes))
    return IssuedCode(code, check, _host_port(url), row.expires_at)


def address_key(address: str) -> str:
    """The unit that is counted and locked: the address itself, or its /64 for IPv6."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address[:64]
    if ip.version == 6 and ip.ipv4_mapped:
        return str(ip.ipv4_mapped)
    if ip.version == 6:
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def locked_minutes(address: str, now: datetime) -> int:
    """Minutes until this address may try again (0: it may now)."""
    since = now - WINDOW
    recent = PairingFailure.select().where(PairingFailure.at > since)
    mine = recent.where(PairingFailure.address == address_key(address))
    for query, limit in ((mine, ADDRESS_LIMIT), (recent, GLOBAL_LIMIT)):
        times = [row.at for row in query.order_by(PairingFailure.at.desc()).limit(limit)]
        if len(times) >= limit:
            return max(1, -(-int((times[-1] + WINDOW - now).total_seconds()) // 60))
    return 0


def _check(code: str, address: str, now: datetime) -> Refusal | PairingCode:
    minutes = locked_minutes(address, now)
    if minutes:
        return Refusal(429, "pairing_locked_out", "locked_out", minutes)
    normal = proto.normalise(code)
    if not proto.valid_symbols(normal, proto.CODE_LENGTH) or not setting("pairing_salt"):
        return Refusal(403, "pairing_code_invalid", "malformed_code")
    row = PairingCode.get_or_none(PairingCode.code_hash == code_hash(normal))
    if row is None:
        return Refusal(403, "pairing_code_invalid", "unknown_code")
    if row.used_at is not None:
        return Refusal(410, "pairing_code_used", "code_used")
    if row.expires_at <= now:
        return Refusal(410, "pairing_code_expired", "code_expired")
    return row


def redeem(code: str, address: str, *, allowed, now: datetime | None = None) -> Refusal | recorders.Provisioning:
    """The provisioning texts for a live code (which is used up), or why not. ``allowed(company, address)`` is
    the company's IP allow-list (a refused address gets 009 and the code stays live)."""
    now = now or utcnow()
    with write_transaction():
        found = _check(code, address, now)
        if isinstance(found, PairingCode):
            rec = found.recorder
            if not allowed(rec.company, address):
                return Refusal(403, "ip_not_allowed", "ip_not_allowed")
            found.used_at, found.used_from = now, address[:64]
            found.save()
            return recorders.reissue(rec, found.server_url)
        if found.key != "pairing_locked_out":
            PairingFailure.create(address=address_key(address), at=now, reason=found.reason)
        PairingFailure.delete().where(PairingFailure.at < now - 2 * WINDOW).execute()
        return found
