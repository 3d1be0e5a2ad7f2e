"""The batch path of POST /v1/punches (dakoku_server.api_punches): a whole batch judged and stored with a fixed
handful of queries inside its one transaction: this company's UUIDs already stored, the employees (with
department and employment type), their help registrations, the recorder's settings history (each punch is
judged with the settings its kiosk judged it with: its ``master_version``, dakoku_server.settings_history), their
accepted punches near the batch's times (re-authentication rule), then one INSERT for all new rows
(dakoku_server.punch_insert). Punches are judged in order, each seeing the ones before it in the batch; every
decision is dakoku_core.domain.rules.check_punch's."""
from __future__ import annotations

import bisect
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from dakoku_core.domain.rules import check_punch
from dakoku_core.errors import KioskError
from dakoku_server.api_corrections import BatchCorrections, not_cancelled
from dakoku_server.db import Company, Department, Employee, EmploymentType, HelpRegistration, Punch, database
from dakoku_server.domain_map import domain_employee, domain_employment_type
from dakoku_server.punch_insert import insert_punch_rows
from dakoku_server.punch_items import invalid, unparseable
from dakoku_server.punch_judging import (
    Receipt, as_utc, duplicate_result, judged_result, punch_row, rule_context,
)
from dakoku_server.punch_times import naive_utc, parse_stamp
from dakoku_server.settings_history import SettingsHistory


class AcceptedTimes:
    """Accepted punch times (naive UTC) per employee id, loaded once for the batch's window; punches the
    batch accepts are added as it goes. Only punches closer than the widest re-auth interval to one of the
    batch's times are loaded: a punch farther than that from every stamp cannot make the rule fire."""

    def __init__(self, emp_ids: set[int], times: list[datetime], interval: timedelta, counts=True):
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

    def nearest(self, emp_id: int, at: datetime) -> datetime | None:
        """The loaded punch nearest ``at`` (either side), aware UTC. Whether it is near enough is the rule's
        to say (dakoku_core.domain.rules): any punch within the interval was loaded, and the nearest is among them."""
        values = self.by_employee[emp_id]
        i = bisect.bisect_left(values, at)
        nearest = min(values[max(i - 1, 0):i + 1], key=lambda t: abs(t - at), default=None)
        return as_utc(nearest) if nearest is not None else None

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
        if results[n] is not None:      # a correction, already judged (dakoku_server.api_corrections)
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
            refusal = receipt.refusal(stamped, emp, tz) if emp is not None else None
            stamped = (refusal, stamped) if refusal is not None else stamped.astimezone(tz)
        placed.append((n, item, stamped))
    return placed


class _Judge:
    """The rules' inputs for the batch's employees, and the accepted punches the batch adds as it goes."""

    def __init__(self, employees: dict[str, Employee], helps: dict[int, set[str]], recorder,
                 accepted: AcceptedTimes, history: SettingsHistory):
        self.domain = {key: (domain_employee(emp), domain_employment_type(emp.employment_type),
                             frozenset(helps[emp.id])) for key, emp in employees.items()}
        self.department = recorder.department.code
        self.accepted, self.history = accepted, history

    def __call__(self, item: dict, stamped, emp: Employee | None) -> tuple[KioskError | None, datetime]:
        """The refusal of one well-formed punch (None: accepted) and its stamp; ``stamped`` is a datetime in the
        company's zone, or (refusal, stamp) when outside the employee's range."""
        if isinstance(stamped, tuple):
            return stamped
        if emp is None:
            return KioskError("employee_not_found"), stamped
        person, employment_type, help_codes = self.domain[emp.key]
        at_utc = naive_utc(stamped)
        interval = self.history.interval_at(item.get("master_version"))
        try:
            check_punch(person, rule_context(item, stamped, self.department, employment_type, help_codes,
                                             self.accepted.nearest(emp.id, at_utc), interval))
        except KioskError as exc:
            return exc, stamped
        self.accepted.add(emp.id, at_utc)
        return None, stamped


def _recorded(comp: Company, todo: list) -> dict[str, tuple]:
    """uuid → (uuid, status, error key, cause) of the batch's UUIDs this company already stored (the batch adds
    what it stores as it goes)."""
    uuids = list({item["uuid"] for _, item, _ in todo})
    return {row[0]: row for row in Punch.select(Punch.uuid, Punch.status, Punch.error_key, Punch.error_cause)
            .where((Punch.company == comp) & Punch.uuid.in_(uuids)).tuples()}


def judge_batch(comp: Company, recorder, items: list, tz: ZoneInfo, receipt: Receipt) -> list[dict]:
    """Judge and store a whole batch with a fixed number of queries. Raises IntegrityError (nothing
    stored) when a concurrent upload stored one of its UUIDs after the lookup."""
    results: list[dict | None] = [None] * len(items)
    fixes = BatchCorrections(comp, recorder, items, results, tz, receipt.received, receipt.window_seconds)
    todo = _parsed(items, recorder, results)
    if not todo:
        with database.atomic():
            fixes.store()
        return results
    recorded = _recorded(comp, todo)
    employees, helps = _employees(comp, list({item["employee_key"] for _, item, _ in todo}))
    todo = _placed(todo, employees, tz, receipt)
    history = SettingsHistory.of(recorder, comp)      # each punch: the settings its kiosk judged it with
    accepted = AcceptedTimes({e.id for e in employees.values()},
                             [naive_utc(s) for _, item, s in todo if isinstance(s, datetime)
                              and item["employee_key"] in employees],
                             history.widest({item.get("master_version") for _, item, _ in todo}),
                             not_cancelled(comp))
    judge = _Judge(employees, helps, recorder, accepted, history)
    rows: list[dict] = []
    for n, item, stamped in todo:
        uuid = item["uuid"]
        if uuid in recorded:
            results[n] = duplicate_result(*recorded[uuid])
            continue
        if isinstance(stamped, ValueError):
            results[n] = unparseable(uuid, stamped)
            continue
        emp = employees.get(item["employee_key"])
        error, stamped = judge(item, stamped, emp)
        if error is None and uuid in fixes.cancelled:
            accepted.discard(emp.id, naive_utc(stamped))
        row = punch_row(comp, recorder, emp.id if emp else None, item, stamped, error)
        rows.append(row)
        recorded[uuid] = (uuid, row["status"], row["error_key"], row["error_cause"])
        results[n] = judged_result(uuid, error)
    with database.atomic():          # savepoint: on a unique violation only the INSERTs are undone
        insert_punch_rows(rows)
        fixes.store()
    return results
