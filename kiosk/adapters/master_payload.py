"""Recorder API payloads → domain objects. A body without the documented shape is ``server_error`` (007):
the translation itself is the schema check (the kiosk does not depend on jsonschema)."""
from __future__ import annotations

from datetime import date

from dakoku_core.domain.model import AuthMethod, Credential, Department, Employee, EmploymentType, Recorder
from dakoku_core.errors import KioskError, Situation
from dakoku_core.protocol.certificate import b64url_decode
from kiosk.ports.recorder_api import MasterSnapshot, PunchOutcome, Tombstone

PUNCH_STATUSES = ("accepted", "duplicate", "rejected")


class _Shape(Exception):
    """The payload does not have the documented shape."""


def _get(obj: object, name: str, kind: type | tuple, *, optional: bool = False, default=None):
    if not isinstance(obj, dict):
        raise _Shape(f"expected an object around {name!r}")
    if name not in obj or obj[name] is None:
        if optional:
            return default
        raise _Shape(f"missing {name!r}")
    value = obj[name]
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise _Shape(f"{name!r} has the wrong type")
    return value


def _text(obj: object, name: str, *, optional: bool = False) -> str:
    return _get(obj, name, str, optional=optional, default="")


def _list(obj: object, name: str) -> list:
    return _get(obj, name, list)


def _date(obj: object, name: str) -> date | None:
    value = _get(obj, name, str, optional=True)
    return date.fromisoformat(value) if value else None


def _employee(row: object) -> Employee:
    kana = _text(row, "kana", optional=True) or " ".join(
        filter(None, (_text(row, "last_name_kana", optional=True), _text(row, "first_name_kana", optional=True))))
    return Employee(
        key=_text(row, "key"), code=_text(row, "code"), last_name=_text(row, "last_name"),
        first_name=_text(row, "first_name", optional=True), department_code=_text(row, "department_code"),
        employment_type_code=_text(row, "employment_type_code"), login_id=_text(row, "login_id", optional=True),
        kana=kana, hired_on=_date(row, "hired_on"), retired_on=_date(row, "retired_on"),
        password_punch_allowed=_get(row, "password_punch_allowed", bool, optional=True, default=False),
        password_hash=_text(row, "password_hash", optional=True))


def _credential(row: object) -> Credential:
    return Credential(_text(row, "employee_key"), AuthMethod(_text(row, "method")), _text(row, "ref"))


def _translate(body: object, etag: str) -> MasterSnapshot:
    recorder = _get(body, "recorder", dict)
    card_key = b64url_decode(_text(body, "card_key"))
    if len(card_key) < 16:
        raise _Shape("card_key too short")
    company = _get(body, "company", dict, optional=True, default={})
    return MasterSnapshot(
        version=_get(body, "version", int), full=_get(body, "full", bool), etag=etag,
        recorder=Recorder(code=_text(recorder, "code"), company_code=_text(recorder, "company_code"),
                          department_code=_text(recorder, "department_code")),
        card_key=card_key,
        departments=tuple(Department(_text(d, "code"), _text(d, "name")) for d in _list(body, "departments")),
        employment_types=tuple(
            EmploymentType(_text(t, "code"), _text(t, "name"),
                           _get(t, "break_punch_allowed", bool, optional=True, default=True))
            for t in _list(body, "employment_types")),
        employees=tuple(_employee(e) for e in _list(body, "employees")),
        credentials=tuple(_credential(c) for c in _list(body, "credentials")),
        help_registrations=tuple((_text(h, "employee_key"), _text(h, "department_code"))
                                 for h in _list(body, "help_registrations")),
        deleted=tuple(Tombstone(_text(t, "kind"), _text(t, "key"), _get(t, "version", int))
                      for t in _list(body, "deleted")),
        recorder_settings=dict(_get(recorder, "settings", dict, optional=True, default={})),
        device=_text(recorder, "device", optional=True) or "card",
        company_timezone=_text(company, "timezone", optional=True),
    )


def snapshot_from_payload(body: object, etag: str, situation: Situation | None) -> MasterSnapshot:
    try:
        return _translate(body, etag)
    except (_Shape, ValueError, TypeError) as exc:
        raise KioskError("server_error", situation=situation, detail=f"master data: {exc}"[:300]) from None


def _outcome(row: object) -> PunchOutcome:
    status = _text(row, "status")
    if status not in PUNCH_STATUSES:
        raise _Shape(f"unknown punch status {status!r}")
    recorded = _text(row, "recorded_status", optional=True) or ("rejected" if status == "rejected" else "accepted")
    error = _get(row, "error", dict, optional=True, default={})
    letter = error.get("cause_letter") if isinstance(error.get("cause_letter"), str) else None
    return PunchOutcome(uuid=_text(row, "uuid").lower(), status=status, recorded=recorded,
                        error_key=_text(error, "key", optional=True), cause_letter=letter)


def outcomes_from_payload(body: object, situation: Situation | None) -> list[PunchOutcome]:
    try:
        return [_outcome(r) for r in _list(body, "results")]
    except (_Shape, ValueError, TypeError) as exc:
        raise KioskError("server_error", situation=situation, detail=f"punch results: {exc}"[:300]) from None
