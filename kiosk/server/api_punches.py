"""POST /v1/punches: a batch of punches, idempotent by punch UUID (unique per company), a result per punch.

Each new punch is re-checked with kiosk.domain.rules at its stamped time (converted to the company's time
zone), not the server's, once its stamp is known to lie in the employee's range (kiosk.server.punch_times).
Rejected punches are kept too (status ``rejected`` with the catalogue key), so nothing a kiosk sent is lost
and a re-sent UUID always gets the same answer (``duplicate`` with the ``recorded_status``). A malformed item
(kiosk.server.punch_items) fails alone. Items of kind ``cancel`` are corrections (取り消し), judged first by
kiosk.server.api_corrections; a punch they cancel does not count for the re-authentication rule.

Performance: a fixed handful of queries per batch, inside its one transaction (kiosk.server.punch_locks: on
PostgreSQL it holds a lock per employee of the batch, not the server's global write lock): this company's UUIDs
already stored, the employees (with department and employment type), their help registrations, the
recorder's settings history (each punch is judged with the settings its kiosk judged it with: its
``master_version``, kiosk.server.settings_history), their accepted punches near the batch's times
(re-authentication rule), then one INSERT for all new rows (kiosk.server.punch_insert).
Punches are judged in order, each seeing the ones before it in the batch. The unique index still decides:
if the INSERT hits it (an upload not sharing our locks stored a UUID after our lookup) the batch is redone
punch by punch, each insert in its own savepoint (PostgreSQL aborts a transaction on a failed statement).
"""
from __future__ import annotations

import bisect
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import peewee as pw
from flask import Response, g, jsonify

from kiosk.domain.model import AuthMethod, ClockReading, PunchKind, TimeSource
from kiosk.domain.rules import PunchContext, check_punch
from kiosk.errors import KioskError
from kiosk.protocol.error_body import error_body
from kiosk.protocol.schemas import PUNCH_BATCH
from kiosk.server.api_base import api_blueprint, caller, json_body
from kiosk.server.db import (
    Company, Department, Employee, EmploymentType, HelpRegistration, Punch, database, utcnow,
)
from kiosk.server.punch_insert import insert_punch_rows
from kiosk.server.punch_items import invalid, unparseable
from kiosk.server.api_corrections import BatchCorrections, is_correction, not_cancelled, store_one
from kiosk.server.punch_locks import punch_transaction
from kiosk.server.domain_map import domain_employee, domain_employment_type
from kiosk.server.punch_times import naive_utc as _naive_utc, out_of_range, parse_stamp
from kiosk.server.settings_history import SettingsHistory

blueprint = api_blueprint("punches", __name__)

@dataclass(frozen=True)
class Receipt:
    """When the batch arrived and the timestamp window (kiosk.server.auth): the latest stamp accepted."""
    received: datetime
    window_seconds: int = 300

    @classmethod
    def now(cls, window_seconds: int = 300) -> "Receipt":
        return cls(datetime.now(timezone.utc), window_seconds)


def _as_utc(naive: datetime) -> datetime:
    return naive.replace(tzinfo=timezone.utc)


def _in_range(stamped: datetime, emp: Employee | None, tz: ZoneInfo, receipt: Receipt) -> KioskError | None:
    """The refusal of a stamp outside the employee's range (punch_times), else None."""
    return out_of_range(stamped, emp.hired_on if emp else None, tz, receipt.received, receipt.window_seconds)


def _context(item: dict, stamped: datetime, recorder_department: str, employment_type, helps: frozenset[str],
             last_punch_at: datetime | None, interval: timedelta) -> PunchContext:
    return PunchContext(
        kind=PunchKind(item["kind"]), method=AuthMethod(item["auth_method"]),
        clock=ClockReading(at=stamped, source=TimeSource(item["time_source"])),
        recorder_department=recorder_department, employment_type=employment_type,
        help_departments=helps, last_punch_at=last_punch_at, reauth_interval=interval)


def _row(comp: Company, recorder, emp_id: int | None, item: dict, stamped: datetime,
         error: KioskError | None) -> dict:
    return {"uuid": item["uuid"], "company": comp.id, "recorder": recorder.id,
            "employee": emp_id, "employee_key": item["employee_key"], "kind": item["kind"],
            "stamped_at": item["stamped_at"], "stamped_utc": _naive_utc(stamped),
            "time_source": item["time_source"], "offline": item["offline"], "auth_method": item["auth_method"],
            "status": "rejected" if error else "accepted", "error_key": error.key if error else "",
            "error_cause": (error.cause_letter or "") if error else "", "received_at": utcnow()}


def _duplicate(uuid: str, status: str, error_key: str, error_cause: str) -> dict:
    result = {"uuid": uuid, "status": "duplicate", "recorded_status": status}
    if status == "rejected":
        result["error"] = error_body(KioskError(error_key, cause_letter=error_cause or None))["error"]
    return result


def _recorded(row: Punch) -> dict:
    return _duplicate(row.uuid, row.status, row.error_key, row.error_cause)


def _judged(uuid: str, error: KioskError | None) -> dict:
    if error is None:
        return {"uuid": uuid, "status": "accepted"}
    reason = error.detail if error.detail.isidentifier() else ""
    return {"uuid": uuid, "status": "rejected", "error": error_body(error, reason)["error"]}


# -- the batch path -------------------------------------------------------------------------------------
class _AcceptedTimes:
    """Accepted punch times (naive UTC) per employee id, loaded once for the batch's window; punches the
    batch accepts are added as it goes. Only punches closer than the re-auth interval can matter, so only
    those are loaded: the rule fires iff one exists, and then the nearest one is among them."""

    def __init__(self, emp_ids: set[int], times: list[datetime], interval: timedelta, counts=True):
        self.interval = interval
        self.by_employee: dict[int, list[datetime]] = {i: [] for i in emp_ids}
        if not emp_ids or not times or interval <= timedelta(0):
            return
        ids = list(emp_ids)
        for start in range(0, len(ids), 500):
            query = (Punch.select(Punch.employee, Punch.stamped_utc)
                     .where(Punch.employee.in_(ids[start:start + 500]) & (Punch.status == "accepted")
                            & (Punch.stamped_utc >= min(times) - interval)
                            & (Punch.stamped_utc <= max(times) + interval) & counts).tuples())
            for emp_id, at in query:
                self.by_employee[emp_id].append(at)
        for values in self.by_employee.values():
            values.sort()

    def nearest(self, emp_id: int, at: datetime, interval: timedelta) -> datetime | None:
        """The accepted punch nearest ``at`` if it is within ``interval`` (at most the loaded one; else None:
        it cannot matter)."""
        if interval <= timedelta(0):
            return None
        values = self.by_employee[emp_id]
        i = bisect.bisect_left(values, at)
        candidates = [t for t in values[max(i - 1, 0):i + 1] if abs(t - at) < interval]
        nearest = min(candidates, key=lambda t: abs(t - at), default=None)
        return _as_utc(nearest) if nearest is not None else None

    def add(self, emp_id: int, at: datetime) -> None:
        bisect.insort(self.by_employee[emp_id], at)

    def discard(self, emp_id: int, at: datetime) -> None:
        """A punch of the batch that a correction of the batch cancels (取り消し) does not count."""
        values = self.by_employee[emp_id]
        i = bisect.bisect_left(values, at)
        if i < len(values) and values[i] == at:
            del values[i]


def _parsed(items: list, recorder, results: list) -> list[tuple[int, dict, datetime | ValueError]]:
    """The well-formed items (index, item, parsed stamp or its ValueError); results of the others filled in."""
    todo = []
    for n, item in enumerate(items):
        if results[n] is not None:      # a correction, already judged (kiosk.server.api_corrections)
            continue
        problem = invalid(item, recorder)
        if problem is not None:
            results[n] = problem
            continue
        try:
            stamped = parse_stamp(item["stamped_at"])
        except ValueError as exc:
            stamped = exc
        todo.append((n, item, stamped))
    return todo


def _employees(comp: Company, keys: list[str]) -> tuple[dict[str, Employee], dict[int, set[str]]]:
    """The batch's employees by key (with department and employment type) and their help departments."""
    employees = {emp.key: emp for emp in Employee.select(Employee, Department, EmploymentType)
                 .join(Department).switch(Employee).join(EmploymentType)
                 .where((Employee.company == comp) & Employee.key.in_(keys))}
    helps: dict[int, set[str]] = {emp.id: set() for emp in employees.values()}
    if employees:
        for emp_id, code in (HelpRegistration.select(HelpRegistration.employee, Department.code).join(Department)
                             .where(HelpRegistration.employee.in_([e.id for e in employees.values()])).tuples()):
            helps[emp_id].add(code)
    return employees, helps


def _placed(todo: list, employees: dict, tz: ZoneInfo, receipt: Receipt) -> list:
    """Each parsed stamp in the company's zone, or its refusal when outside the employee's range (checked
    before any zone conversion, which could overflow for years 0001 and 9999)."""
    placed = []
    for n, item, stamped in todo:
        if isinstance(stamped, datetime):
            emp = employees.get(item["employee_key"])
            refusal = _in_range(stamped, emp, tz, receipt) if emp is not None else None
            stamped = (refusal, stamped) if refusal is not None else stamped.astimezone(tz)
        placed.append((n, item, stamped))
    return placed


def _batch(comp: Company, recorder, items: list, tz: ZoneInfo, receipt: Receipt) -> list[dict]:
    """Judge and store a whole batch with a fixed number of queries. Raises IntegrityError (nothing
    stored) when a concurrent upload stored one of its UUIDs after the lookup."""
    results: list[dict | None] = [None] * len(items)
    fixes = BatchCorrections(comp, recorder, items, results, tz, receipt.received, receipt.window_seconds)
    todo = _parsed(items, recorder, results)
    if not todo:
        with database.atomic():
            fixes.store()
        return results
    # uuid → (uuid, status, error key, cause): what this company stored, then what this batch stores
    recorded = {row[0]: row for row in Punch.select(Punch.uuid, Punch.status, Punch.error_key, Punch.error_cause)
                .where((Punch.company == comp) & Punch.uuid.in_(list({item["uuid"] for _, item, _ in todo})))
                .tuples()}
    employees, helps = _employees(comp, list({item["employee_key"] for _, item, _ in todo}))
    todo = _placed(todo, employees, tz, receipt)
    history = SettingsHistory.of(recorder, comp)      # each punch: the settings its kiosk judged it with
    interval = history.widest({item.get("master_version") for _, item, _ in todo})
    accepted = _AcceptedTimes({e.id for e in employees.values()},
                              [_naive_utc(s) for _, item, s in todo if isinstance(s, datetime)
                               and item["employee_key"] in employees], interval, not_cancelled(comp))
    domain = {key: (domain_employee(emp), domain_employment_type(emp.employment_type), frozenset(helps[emp.id]))
              for key, emp in employees.items()}
    rows: list[dict] = []
    for n, item, stamped in todo:
        uuid = item["uuid"]
        if uuid in recorded:
            results[n] = _duplicate(*recorded[uuid])
            continue
        if isinstance(stamped, ValueError):
            results[n] = unparseable(uuid, stamped)
            continue
        emp = employees.get(item["employee_key"])
        error, stamped = _judge(item, stamped, emp, domain, recorder.department.code, accepted, history)
        if error is None and uuid in fixes.cancelled:
            accepted.discard(emp.id, _naive_utc(stamped))
        row = _row(comp, recorder, emp.id if emp else None, item, stamped, error)
        rows.append(row)
        recorded[uuid] = (uuid, row["status"], row["error_key"], row["error_cause"])
        results[n] = _judged(uuid, error)
    with database.atomic():          # savepoint: on a unique violation only the INSERTs are undone
        insert_punch_rows(rows)
        fixes.store()
    return results


def _judge(item: dict, stamped, emp: Employee | None, domain: dict, recorder_department: str,
           accepted: _AcceptedTimes, history: SettingsHistory) -> tuple[KioskError | None, datetime]:
    """The refusal of one well-formed punch (None: accepted) and its stamp; ``stamped`` is a datetime in the
    company's zone, or (refusal, stamp) when outside the employee's range."""
    if isinstance(stamped, tuple):
        return stamped
    if emp is None:
        return KioskError("employee_not_found"), stamped
    person, employment_type, help_codes = domain[emp.key]
    at_utc = _naive_utc(stamped)
    interval = history.interval_at(item.get("master_version"))
    try:
        check_punch(person, _context(item, stamped, recorder_department, employment_type, help_codes,
                                     accepted.nearest(emp.id, at_utc, interval), interval))
    except KioskError as exc:
        return exc, stamped
    accepted.add(emp.id, at_utc)
    return None, stamped


# -- the punch-by-punch path (after a unique-constraint race) -----------------------------------------
def _nearest_punch(emp: Employee, at_utc: datetime) -> datetime | None:
    """The accepted punch of ``emp`` closest in time to ``at_utc`` (either side), for the re-auth rule."""
    accepted = Punch.select(Punch.stamped_utc).where((Punch.employee == emp) & (Punch.status == "accepted")
                                                     & not_cancelled(emp.company_id))
    before = accepted.where(Punch.stamped_utc <= at_utc).order_by(Punch.stamped_utc.desc()).first()
    after = accepted.where(Punch.stamped_utc >= at_utc).order_by(Punch.stamped_utc.asc()).first()
    candidates = [_as_utc(p.stamped_utc) for p in (before, after) if p is not None]
    return min(candidates, key=lambda t: abs(t - _as_utc(at_utc)), default=None)


def _check_rules(comp: Company, emp: Employee, item: dict, stamped: datetime, recorder) -> None:
    helps = frozenset(h.department.code for h in HelpRegistration.select(HelpRegistration, Department)
                      .join(Department).where(HelpRegistration.employee == emp))
    interval = SettingsHistory.of(recorder, comp).interval_at(item.get("master_version"))
    check_punch(domain_employee(emp), _context(
        item, stamped, recorder.department.code, domain_employment_type(emp.employment_type), helps,
        _nearest_punch(emp, _naive_utc(stamped)), interval))


def _store(comp: Company, recorder, emp: Employee | None, item: dict, stamped: datetime,
           error: KioskError | None) -> bool:
    """Insert the punch; False when its UUID arrived meanwhile (a concurrent upload)."""
    try:
        with database.atomic():   # savepoint: a unique violation must not abort the batch
            Punch.insert(_row(comp, recorder, emp.id if emp else None, item, stamped, error)).execute()
        return True
    except pw.IntegrityError:
        return False


def _one(comp: Company, recorder, item: dict, tz: ZoneInfo, receipt: Receipt) -> dict:
    if is_correction(item):
        return store_one(comp, recorder, item, tz, receipt.received, receipt.window_seconds)
    problem = invalid(item, recorder)
    if problem is not None:
        return problem
    uuid = item["uuid"]
    existing = Punch.get_or_none((Punch.company == comp) & (Punch.uuid == uuid))
    if existing is not None:
        return _recorded(existing)
    try:
        stamped = parse_stamp(item["stamped_at"])
    except ValueError as exc:
        return unparseable(uuid, exc)
    emp = (Employee.select().where((Employee.company == comp) & (Employee.key == item["employee_key"]))
           .first())
    error = KioskError("employee_not_found") if emp is None else _in_range(stamped, emp, tz, receipt)
    if error is None:
        stamped = stamped.astimezone(tz)
        try:
            _check_rules(comp, emp, item, stamped, recorder)
        except KioskError as exc:
            error = exc
    if not _store(comp, recorder, emp, item, stamped, error):
        return _recorded(Punch.get((Punch.company == comp) & (Punch.uuid == uuid)))
    return _judged(uuid, error)


def store_punches(comp: Company, recorder, items: list, receipt: Receipt | None = None) -> list[dict]:
    """Judge and store a batch in one transaction (punch_locks); the result for each item, in order."""
    tz = ZoneInfo(comp.timezone)
    receipt = receipt or Receipt.now()
    with punch_transaction(comp.id, items):
        try:
            return _batch(comp, recorder, items, tz, receipt)
        except pw.IntegrityError:
            return [_one(comp, recorder, item, tz, receipt) for item in items]


@blueprint.post("/punches")
def upload_punches() -> Response:
    receipt = Receipt.now(g.config.auth.timestamp_window)         # before the body is read and judged
    body = json_body(PUNCH_BATCH)
    who = caller()
    return jsonify({"results": store_punches(who.company, who.recorder, body["punches"], receipt)})
