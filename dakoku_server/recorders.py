"""Recorders: creation, certificate issue and renewal, settings.

A recorder has at most one live key. Creating it or renewing its certificate issues a new Ed25519 key
pair: the server keeps the public half under a new key id and hands out the private half once, inside the
pasteable certificate text; renewal revokes every older key of the recorder (→ 012 for kiosks still
holding it).
"""
from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import timezone

import peewee as pw

from dakoku_core.protocol.certificate import ca_fingerprint, issue_certificate
from dakoku_core.protocol.connection import DEVICE_TYPES, ConnectionString
from dakoku_core.protocol.recorder_settings import defaults as recorder_defaults, problem as setting_problem
from dakoku_server.admin import AdminError, checked_code, department
from dakoku_server.db import (
    Company, Recorder, RecorderKey, RecorderSettingsVersion, bump_version, setting, utcnow, write_transaction,
)

# One value for every setting, shared with the kiosk (which uses them until its first データ更新).
DEFAULT_SETTINGS = recorder_defaults()


@dataclass(frozen=True)
class Provisioning:
    """What an admin hands to the person setting up the kiosk."""

    connection_string: str
    certificate: str

    def text(self) -> str:
        return f"# 接続文字列 / connection string\n{self.connection_string}\n\n# 証明書 / certificate\n{self.certificate}"


def recorder(comp: Company, code: str) -> Recorder:
    row = Recorder.get_or_none((Recorder.company == comp) & (Recorder.code == code))
    if row is None:
        raise AdminError(f"no recorder {code!r} in {comp.code}")
    return row


def settings_of(rec: Recorder) -> dict:
    return {**DEFAULT_SETTINGS, **json.loads(rec.settings_json or "{}")}


def _issue(rec: Recorder, server_url: str) -> Provisioning:
    """New key for ``rec`` (older keys revoked); call inside a write transaction."""
    RecorderKey.update(revoked_at=utcnow()).where(
        (RecorderKey.recorder == rec) & RecorderKey.revoked_at.is_null()).execute()
    ca_pem = setting("ca_pem")
    key_id = "k_" + secrets.token_hex(16)
    cert = issue_certificate(key_id, rec.company.code, rec.code, ca_pem=ca_pem,
                             issued_at=utcnow().replace(tzinfo=timezone.utc))
    RecorderKey.create(recorder=rec, key_id=key_id, public_key=cert.public_key_raw)
    connection = ConnectionString(url=server_url, company=rec.company.code, recorder=rec.code,
                                  department=rec.department.code, device=rec.device,
                                  ca_pin=ca_fingerprint(ca_pem) if ca_pem else "")
    return Provisioning(connection.format(), cert.format())


def _server_url(server_url: str | None) -> str:
    url = server_url or setting("public_url")
    if not url.startswith("https://"):
        raise AdminError("give the server's https:// URL (--url, or set it once with `init --url`)")
    return url


def checked_server_url(server_url: str | None) -> str:
    """``server_url`` or the one set by ``init --url``; AdminError unless it is https (pairing uses it too)."""
    return _server_url(server_url)


def reissue(rec: Recorder, server_url: str) -> Provisioning:
    """A new certificate for ``rec``, older keys revoked; call inside a write transaction (pairing redeems)."""
    return _issue(rec, server_url)


def add_recorder(comp: Company, code: str, department_code: str, *, device: str = "card",
                 name: str = "", server_url: str | None = None) -> Provisioning:
    if device not in DEVICE_TYPES:
        raise AdminError(f"device must be one of {DEVICE_TYPES}")
    url = _server_url(server_url)
    dept = department(comp, department_code)
    with write_transaction():
        try:
            rec = Recorder.create(company=comp, code=checked_code(code, "recorder"), name=name or code,
                                  department=dept, device=device, version=bump_version(comp))
        except pw.IntegrityError:
            raise AdminError(f"recorder {code!r} exists") from None
        RecorderSettingsVersion.create(recorder=rec, version=rec.version, settings_json="{}")   # the defaults
        return _issue(rec, url)


def renew_certificate(comp: Company, code: str, *, server_url: str | None = None) -> Provisioning:
    rec = recorder(comp, code)
    url = _server_url(server_url)
    with write_transaction():
        return _issue(rec, url)


def revoke(comp: Company, code: str) -> int:
    """Revoke every key of the recorder (a lost tablet) without issuing a new one."""
    rec = recorder(comp, code)
    with write_transaction():
        return RecorderKey.update(revoked_at=utcnow()).where(
            (RecorderKey.recorder == rec) & RecorderKey.revoked_at.is_null()).execute()


def set_setting(comp: Company, code: str, name: str, value: object) -> dict:
    why = setting_problem(name, value)
    if why is not None:
        raise AdminError(why)
    rec = recorder(comp, code)
    with write_transaction():
        stored = json.loads(rec.settings_json or "{}")
        stored[name] = value
        rec.settings_json = json.dumps(stored, ensure_ascii=False)
        rec.version = bump_version(comp)
        rec.save()
        # the history the punch upload judges by (dakoku_server.settings_history)
        RecorderSettingsVersion.create(recorder=rec, version=rec.version, settings_json=rec.settings_json)
    return settings_of(rec)


def set_department(comp: Company, code: str, department_code: str) -> None:
    rec = recorder(comp, code)
    with write_transaction():
        rec.department = department(comp, department_code)
        rec.version = bump_version(comp)
        rec.save()
