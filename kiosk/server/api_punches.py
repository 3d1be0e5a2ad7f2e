"""POST /v1/punches: a batch of punches, idempotent by punch UUID, with a result per punch.

Each new punch is re-checked with kiosk.domain.rules at its stamped time (converted to the company's
time zone), not the server's. Rejected punches are kept too (status ``rejected`` with the catalogue key),
so nothing a kiosk sent is lost and a re-sent UUID always gets the same answer (``duplicate`` with the
``recorded_status``).
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import jsonschema
import peewee as pw
from flask import Response, jsonify

from kiosk.domain.model import AuthMethod, ClockReading, PunchKind, TimeSource
from kiosk.domain.rules import PunchContext, check_punch
from kiosk.errors import KioskError
from kiosk.protocol.error_body import error_body
from kiosk.protocol.schemas import PUNCH, PUNCH_BATCH
from kiosk.server.app import api, caller, json_body
from kiosk.server.db import Company, Department, Employee, HelpRegistration, Punch, database, write_transaction
from kiosk.server.domain_map import domain_employee, domain_employment_type
from kiosk.server.recorders import settings_of

_VALIDATOR = jsonschema.Draft202012Validator(PUNCH, format_checker=jsonschema.FormatChecker())


def _parse_time(text: str, tz: ZoneInfo) -> datetime:
    stamped = datetime.fromisoformat(text)
    if stamped.tzinfo is None:
        raise ValueError("stamped_at needs a UTC offset")
    return stamped.astimezone(tz)


def _as_utc(naive: datetime) -> datetime:
    return naive.replace(tzinfo=timezone.utc)


def _nearest_punch(emp: Employee, at_utc: datetime) -> datetime | None:
    """The accepted punch of ``emp`` closest in time to ``at_utc`` (either side), for the re-auth rule."""
    accepted = Punch.select(Punch.stamped_utc).where((Punch.employee == emp) & (Punch.status == "accepted"))
    before = accepted.where(Punch.stamped_utc <= at_utc).order_by(Punch.stamped_utc.desc()).first()
    after = accepted.where(Punch.stamped_utc >= at_utc).order_by(Punch.stamped_utc.asc()).first()
    candidates = [_as_utc(p.stamped_utc) for p in (before, after) if p is not None]
    return min(candidates, key=lambda t: abs(t - _as_utc(at_utc)), default=None)


def _check_rules(emp: Employee, item: dict, stamped: datetime, recorder) -> None:
    helps = frozenset(h.department.code for h in HelpRegistration.select(HelpRegistration, Department)
                      .join(Department).where(HelpRegistration.employee == emp))
    interval = timedelta(seconds=int(settings_of(recorder).get("reauth_interval_seconds", 0)))
    ctx = PunchContext(
        kind=PunchKind(item["kind"]), method=AuthMethod(item["auth_method"]),
        clock=ClockReading(at=stamped, source=TimeSource(item["time_source"])),
        recorder_department=recorder.department.code, employment_type=domain_employment_type(emp.employment_type),
        help_departments=helps,
        last_punch_at=_nearest_punch(emp, stamped.astimezone(timezone.utc).replace(tzinfo=None)),
        reauth_interval=interval)
    check_punch(domain_employee(emp), ctx)


def _store(comp: Company, recorder, emp: Employee | None, item: dict, stamped: datetime,
           error: KioskError | None) -> bool:
    """Insert the punch; False when its UUID arrived meanwhile (a concurrent upload)."""
    try:
        with database.atomic():   # savepoint: a unique violation must not abort the batch
            Punch.create(uuid=item["uuid"].lower(), company=comp, recorder=recorder, employee=emp,
                         employee_key=item["employee_key"], kind=item["kind"], stamped_at=item["stamped_at"],
                         stamped_utc=stamped.astimezone(timezone.utc).replace(tzinfo=None),
                         time_source=item["time_source"], offline=item["offline"],
                         auth_method=item["auth_method"], status="rejected" if error else "accepted",
                         error_key=error.key if error else "", error_cause=(error.cause_letter or "") if error else "")
        return True
    except pw.IntegrityError:
        return False


def _recorded(row: Punch) -> dict:
    result = {"uuid": row.uuid, "status": "duplicate", "recorded_status": row.status}
    if row.status == "rejected":
        result["error"] = error_body(KioskError(row.error_key, cause_letter=row.error_cause or None))["error"]
    return result


def _one(comp: Company, recorder, item: dict, tz: ZoneInfo) -> dict:
    problem = jsonschema.exceptions.best_match(_VALIDATOR.iter_errors(item))
    uuid = str(item.get("uuid", "")) if isinstance(item, dict) else ""
    if problem is not None or item.get("recorder_code", recorder.code) != recorder.code:
        reason = problem.message[:200] if problem is not None else "recorder_code does not match the key"
        return {"uuid": uuid, "status": "rejected",
                "error": error_body(KioskError("unexpected"), f"invalid_punch: {reason}")["error"]}
    existing = Punch.get_or_none(Punch.uuid == uuid.lower())
    if existing is not None:
        return _recorded(existing)
    try:
        stamped = _parse_time(item["stamped_at"], tz)
    except ValueError as exc:
        return {"uuid": uuid, "status": "rejected",
                "error": error_body(KioskError("unexpected"), f"invalid_punch: {exc}")["error"]}
    emp = (Employee.select().where((Employee.company == comp) & (Employee.key == item["employee_key"]))
           .first())
    error = KioskError("employee_not_found") if emp is None else None
    if emp is not None:
        try:
            _check_rules(emp, item, stamped, recorder)
        except KioskError as exc:
            error = exc
    if not _store(comp, recorder, emp, item, stamped, error):
        return _recorded(Punch.get(Punch.uuid == uuid.lower()))
    if error is None:
        return {"uuid": uuid, "status": "accepted"}
    return {"uuid": uuid, "status": "rejected", "error": error_body(error)["error"]}


@api.post("/punches")
def upload_punches() -> Response:
    body = json_body(PUNCH_BATCH)
    who = caller()
    tz = ZoneInfo(who.company.timezone)
    with write_transaction():
        results = [_one(who.company, who.recorder, item, tz) for item in body["punches"]]
    return jsonify({"results": results})
