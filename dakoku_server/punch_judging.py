"""How one punch of POST /v1/punches is judged and answered, shared by the batch path (dakoku_server.punch_batch)
and the punch-by-punch path (dakoku_server.punch_single): the receipt (when the batch arrived), the context the
kiosk's own rules judge with (dakoku_core.domain.rules.check_punch), the stored row, and the result for the kiosk."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from dakoku_core.domain.model import AuthMethod, ClockReading, EmploymentType, PunchKind, TimeSource
from dakoku_core.domain.rules import PunchContext
from dakoku_core.errors import KioskError
from dakoku_core.protocol.error_body import error_body
from dakoku_server.db import Company, Employee, Punch, utcnow
from dakoku_server.punch_times import naive_utc, out_of_range


@dataclass(frozen=True)
class Receipt:
    """When the batch arrived and the timestamp window (dakoku_server.auth): the latest stamp accepted."""
    received: datetime
    window_seconds: int = 300

    @classmethod
    def now(cls, window_seconds: int = 300) -> "Receipt":
        return cls(datetime.now(timezone.utc), window_seconds)

    def refusal(self, stamped: datetime, emp: Employee | None, tz: ZoneInfo) -> KioskError | None:
        """The refusal of a stamp outside the employee's range (dakoku_server.punch_times), else None."""
        return out_of_range(stamped, emp.hired_on if emp else None, tz, self.received, self.window_seconds)


def as_utc(naive: datetime) -> datetime:
    return naive.replace(tzinfo=timezone.utc)


def rule_context(item: dict, stamped: datetime, recorder_department: str, employment_type: EmploymentType | None,
                 helps: frozenset[str], last_punch_at: datetime | None, interval: timedelta) -> PunchContext:
    """What dakoku_core.domain.rules.check_punch needs besides the employee, as the kiosk gathered it."""
    return PunchContext(
        kind=PunchKind(item["kind"]), method=AuthMethod(item["auth_method"]),
        clock=ClockReading(at=stamped, source=TimeSource(item["time_source"])),
        recorder_department=recorder_department, employment_type=employment_type,
        help_departments=helps, last_punch_at=last_punch_at, reauth_interval=interval)


def punch_row(comp: Company, recorder, emp_id: int | None, item: dict, stamped: datetime,
              error: KioskError | None) -> dict:
    """The Punch row stored for ``item``: accepted, or rejected with the refusal's key and cause."""
    return {"uuid": item["uuid"], "company": comp.id, "recorder": recorder.id,
            "employee": emp_id, "employee_key": item["employee_key"], "kind": item["kind"],
            "stamped_at": item["stamped_at"], "stamped_utc": naive_utc(stamped),
            "time_source": item["time_source"], "offline": item["offline"], "auth_method": item["auth_method"],
            "status": "rejected" if error else "accepted", "error_key": error.key if error else "",
            "error_cause": (error.cause_letter or "") if error else "", "received_at": utcnow()}


def duplicate_result(uuid: str, status: str, error_key: str, error_cause: str) -> dict:
    """The answer to a UUID already stored: ``duplicate``, with what was recorded the first time."""
    result = {"uuid": uuid, "status": "duplicate", "recorded_status": status}
    if status == "rejected":
        result["error"] = error_body(KioskError(error_key, cause_letter=error_cause or None))["error"]
    return result


def recorded_result(row: Punch) -> dict:
    return duplicate_result(row.uuid, row.status, row.error_key, row.error_cause)


def judged_result(uuid: str, error: KioskError | None) -> dict:
    """The answer to a punch judged now: ``accepted``, or ``rejected`` with the refusal (its reason word only)."""
    if error is None:
        return {"uuid": uuid, "status": "accepted"}
    reason = error.detail if error.detail.isidentifier() else ""
    return {"uuid": uuid, "status": "rejected", "error": error_body(error, reason)["error"]}
