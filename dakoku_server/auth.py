"""Request authentication: signature, key revocation, timestamp window, IP allow-list, nonce.

Order: headers → key id → signature → revocation → timestamp → IP allow-list → nonce. Checking the
signature before anything that reveals state means only the holder of a key learns that it was renewed
or that its address is not allowed. ``GET /v1/time`` skips the timestamp window and the nonce (a kiosk
with a wrong clock must still be able to read the server's time; replaying it reveals nothing).
"""
from __future__ import annotations

import ipaddress
import random
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from urllib.parse import quote

import peewee as pw
from flask import Request

from dakoku_core.protocol.signing import SignatureProblem, check_timestamp, read_headers, verify_signature
from dakoku_server.db import AllowedIp, Company, Nonce, Recorder, RecorderKey, utcnow
from dakoku_server.errors import ApiError


@dataclass(frozen=True)
class AuthConfig:
    timestamp_window: int = 300
    trust_proxy_header: str = ""      # e.g. "X-Forwarded-For"; empty = use the socket's peer address


@dataclass(frozen=True)
class Caller:
    recorder: Recorder
    company: Company
    key_id: str


def _refuse(reason: str, **extra) -> ApiError:
    return ApiError(401, "certificate_invalid", reason, extra=extra)


def signed_path(request: Request) -> str:
    """The path and query as the client sent them (before any percent-decoding)."""
    raw = request.environ.get("RAW_URI") or request.environ.get("REQUEST_URI")
    if raw:
        return raw
    query = request.query_string.decode("latin-1")
    return quote(request.script_root + request.path) + (f"?{query}" if query else "")


def client_address(request: Request, config: AuthConfig) -> str:
    """The caller's IP: the socket peer, or the rightmost entry of the one trusted proxy header."""
    address = request.remote_addr or ""
    if config.trust_proxy_header:
        header = request.headers.get(config.trust_proxy_header, "")
        if header.strip():
            address = header.split(",")[-1].strip()
    return normalise_ip(address) or address


def normalise_ip(text: str) -> str:
    try:
        ip = ipaddress.ip_address(text.strip().strip("[]"))
    except ValueError:
        return ""
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return str(ip)


def ip_allowed(company: Company, address: str) -> bool:
    """An empty allow-list allows every address (the restriction is off until an address is added)."""
    allowed = {row.address for row in AllowedIp.select().where(AllowedIp.company == company)}
    return not allowed or address in allowed


def _consume_nonce(key_id: str, nonce: str, timestamp: int, window: int) -> None:
    """Remember the nonce for as long as its timestamp stays inside the window (plus a minute)."""
    if random.random() < 0.02:
        Nonce.delete().where(Nonce.expires_at < utcnow()).execute()
    valid_until = datetime.fromtimestamp(timestamp + window + 60, timezone.utc).replace(tzinfo=None)
    expires = max(valid_until, utcnow() + timedelta(seconds=60))
    try:
        Nonce.create(key_id=key_id, nonce=nonce, expires_at=expires)
    except pw.IntegrityError:
        raise _refuse("nonce_replayed") from None


def authenticate(request: Request, config: AuthConfig, now: float, *, skip_window: bool = False) -> Caller:
    try:
        signed = read_headers(request.headers)
        key = (RecorderKey.select(RecorderKey, Recorder, Company).join(Recorder).join(Company)
               .where(RecorderKey.key_id == signed.key_id).first())
        if key is None:
            raise SignatureProblem("unknown_key")
        verify_signature(bytes(key.public_key), signed, request.method, signed_path(request),
                         request.get_data(cache=True))
    except SignatureProblem as problem:
        raise _refuse(problem.reason) from None
    if key.revoked_at is not None:
        raise _refuse("key_revoked")
    if not skip_window:
        try:
            check_timestamp(signed, now, config.timestamp_window)
        except SignatureProblem:
            raise ApiError(401, "auth_failed", "clock_skew", cause_letter="B",
                           extra={"server_time_epoch": now}) from None
    company = key.recorder.company
    if not ip_allowed(company, client_address(request, config)):
        raise ApiError(403, "ip_not_allowed", "ip_not_allowed")
    if not skip_window:
        _consume_nonce(signed.key_id, signed.nonce, signed.timestamp, config.timestamp_window)
    return Caller(recorder=key.recorder, company=company, key_id=signed.key_id)
