"""Punch rules checked at the kiosk (and again by the server). Pure functions; each violation raises
the catalogue error the anchor product shows for it."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from kiosk.domain.model import AuthMethod, ClockReading, Employee, EmploymentType, PunchKind
from kiosk.errors import KioskError, Situation

PUNCH = Situation.PUNCH


@dataclass(frozen=True)
class PunchContext:
    """Everything the rules need besides the employee, gathered by the service."""

    kind: PunchKind
    method: AuthMethod
    clock: ClockReading
    recorder_department: str
    employment_type: EmploymentType | None
    help_departments: frozenset[str]
    last_punch_at: datetime | None
    reauth_interval: timedelta


def check_clock(clock: ClockReading) -> None:
    """While the time offset is being adjusted no punch is taken (認証に失敗しました, cause B)."""
    if clock.adjusting:
        raise KioskError("auth_failed", situation=PUNCH, cause_letter="B")


def check_punch(employee: Employee, ctx: PunchContext) -> None:
    """Raise the first rule the punch breaks, in the order a person would want to hear about it."""
    check_clock(ctx.clock)
    local_day = ctx.clock.at.date()
    if employee.hired_on and local_day < employee.hired_on:
        raise KioskError("before_hire_date", situation=PUNCH)
    if employee.retired_on and local_day > employee.retired_on:
        raise KioskError("after_retirement", situation=PUNCH)
    if not may_punch_at_department(employee, ctx.recorder_department, ctx.help_departments):
        raise KioskError("auth_failed", situation=PUNCH, cause_letter="C")
    if ctx.method is AuthMethod.PASSWORD and not employee.password_punch_allowed:
        raise KioskError("password_punch_not_allowed", situation=PUNCH)
    if ctx.kind.is_break and not (ctx.employment_type and ctx.employment_type.break_punch_allowed):
        raise KioskError("break_not_allowed", situation=PUNCH)
    if ctx.last_punch_at is not None and ctx.reauth_interval > timedelta(0):
        if abs(ctx.clock.at - ctx.last_punch_at) < ctx.reauth_interval:
            raise KioskError("already_punched", situation=PUNCH,
                             context={"name": employee.display_name})


def may_punch_at_department(employee: Employee, recorder_department: str,
                            help_departments: frozenset[str]) -> bool:
    """The recorder's department is the employee's own or one the employee is help-registered to."""
    return employee.department_code == recorder_department or recorder_department in help_departments


def greeting_key(kind: PunchKind, at: datetime) -> str:
    """The UI string key of the greeting shown with the confirmation."""
    if kind is PunchKind.CLOCK_IN:
        return "greeting.morning" if at.hour < 11 else "greeting.hello"
    return {
        PunchKind.CLOCK_OUT: "greeting.clock_out",
        PunchKind.BREAK_START: "greeting.break_start",
        PunchKind.BREAK_END: "greeting.break_end",
    }[kind]
