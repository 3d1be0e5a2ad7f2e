"""The punch-by-punch path of POST /v1/punches (dakoku_server.api_punches), taken after the batch's INSERT hit
the unique index (an upload not sharing our locks stored one of its UUIDs after our lookup): each punch is
looked up, judged with dakoku_core.domain.rules.check_punch and inserted in its own savepoint (PostgreSQL aborts a
transaction on a failed statement), so a UUID stored meanwhile gets the answer recorded for it."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import peewee as pw

from dakoku_core.domain.rules import check_punch
from dakoku_core.errors import KioskError
from dakoku_server.api_corrections import is_correction, not_cancelled, store_one
from dakoku_server.db import Company, Department, Employee, HelpRegistration, Punch, database
from dakoku_server.domain_map import domain_employee, domain_employment_type
from dakoku_server.punch_items import invalid, unparseable
from dakoku_server.punch_judging import Receipt, as_utc, judged_result, punch_row, recorded_result, rule_context
from dakoku_server.punch_times import naive_utc, parse_stamp
from dakoku_server.settings_history import SettingsHistory


def _nearest_punch(emp: Employee, at_utc: datetime) -> datetime | None:
    """The accepted punch of ``emp`` closest in time to ``at_utc`` (either side), for the re-auth rule."""
    accepted = Punch.select(Punch.stamped_utc).where((Punch.employee == emp) & (Punch.status == "accepted")
                                                     & not_cancelled(emp.company_id))
    before = accepted.where(Punch.stamped_utc <= at_utc).order_by(Punch.stamped_utc.desc()).first()
    after = accepted.where(Punch.stamped_utc >= at_utc).order_by(Punch.stamped_utc.asc()).first()
    candidates = [as_utc(p.stamped_utc) for p in (before, after) if p is not None]
    return min(candidates, key=lambda t: abs(t - as_utc(at_utc)), default=None)


def _check_rules(comp: Company, emp: Employee, item: dict, stamped: datetime, recorder) -> None:
    helps = frozenset(h.department.code for h in HelpRegistration.select(HelpRegistration, Department)
                      .join(Department).where(HelpRegistration.employee == emp))
    interval = SettingsHistory.of(recorder, comp).interval_at(item.get("master_version"))
    check_punch(domain_employee(emp), rule_context(
        item, stamped, recorder.department.code, domain_employment_type(emp.employment_type), helps,
        _nearest_punch(emp, naive_utc(stamped)), interval))


def _store(comp: Company, recorder, emp: Employee | None, item: dict, stamped: datetime,
           error: KioskError | None) -> bool:
    """Insert the punch; False when its UUID arrived meanwhile (a concurrent upload)."""
    try:
        with database.atomic():   # savepoint: a unique violation must not abort the batch
            Punch.insert(punch_row(comp, recorder, emp.id if emp else None, item, stamped, error)).execute()
        return True
    except pw.IntegrityError:
        return False


def judge_one(comp: Company, recorder, item: dict, tz: ZoneInfo, receipt: Receipt) -> dict:
    """Judge and store one item of the batch (a punch or a correction); its result."""
    if is_correction(item):
        return store_one(comp, recorder, item, tz, receipt.received, receipt.window_seconds)
    problem = invalid(item, recorder)
    if problem is not None:
        return problem
    uuid = item["uuid"]
    existing = Punch.get_or_none((Punch.company == comp) & (Punch.uuid == uuid))
    if existing is not None:
        return recorded_result(existing)
    try:
        stamped = parse_stamp(item["stamped_at"])
    except ValueError as exc:
        return unparseable(uuid, exc)
    emp = (Employee.select().where((Employee.company == comp) & (Employee.key == item["employee_key"]))
           .first())
    error = KioskError("employee_not_found") if emp is None else receipt.refusal(stamped, emp, tz)
    if error is None:
        stamped = stamped.astimezone(tz)
        try:
            _check_rules(comp, emp, item, stamped, recorder)
        except KioskError as exc:
            error = exc
    if not _store(comp, recorder, emp, item, stamped, error):
        return recorded_result(Punch.get((Punch.company == comp) & (Punch.uuid == uuid)))
    return judged_result(uuid, error)
