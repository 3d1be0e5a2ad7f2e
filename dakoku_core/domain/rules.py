"""Punch rules checked at the kiosk (and again by the server). Pure functions; each violation raises
the catalogue error the anchor product shows for it."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Sequence

from dakoku_core.domain.model import AuthMethod, ClockReading, Employee, EmploymentType, PunchKind
from dakoku_core.errors import KioskError, Situation

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


# -- 取り消し (undo of a punch) ------------------------------------------------------------------------
UNDO_SECONDS_DEFAULT = 5     # the device setting display.undo_seconds (0: no 取り消し button)
UNDO_SECONDS_MAX = 15        # the most a device may offer; the server checks corrections against this
UNDO_GRACE = timedelta(seconds=3)   # the confirmation is drawn after the stamp, the tap reaches the worker later


def check_correction(punch_at: datetime, correction_at: datetime, window: timedelta) -> None:
    """A correction (取り消し) belongs to the punch just made: stamped within ``window`` (+ grace) after it.
    Otherwise 「打刻を取り消せませんでした」 cause B (the time to cancel had passed)."""
    delta = correction_at - punch_at
    if not -UNDO_GRACE <= delta <= window + UNDO_GRACE:
        raise KioskError("correction_refused", situation=PUNCH, cause_letter="B",
                         detail=f"{delta.total_seconds():.1f} s after the punch")


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


# -- 打刻時警告 (sequence warning) ------------------------------------------------------------------
# A work day, for the sequence warning: the employee's punches of the WORK_DAY before this one (a night
# shift's 出勤 at 22:00 still counts for its 退勤 at 06:00). Older punches never make a question.
WORK_DAY = timedelta(hours=24)

_OFF, _WORKING, _ON_BREAK = "off", "working", "on_break"
_AFTER = {PunchKind.CLOCK_IN: _WORKING, PunchKind.CLOCK_OUT: _OFF,
          PunchKind.BREAK_START: _ON_BREAK, PunchKind.BREAK_END: _WORKING}
# (state, chosen kind) → the punch missing before it. Absent: the punch follows.
_MISSING = {
    (_OFF, PunchKind.CLOCK_OUT): PunchKind.CLOCK_IN,           # 退勤 with no 出勤
    (_OFF, PunchKind.BREAK_START): PunchKind.CLOCK_IN,         # 休憩開始 with no 出勤
    (_OFF, PunchKind.BREAK_END): PunchKind.BREAK_START,        # 休憩終了 with no 休憩開始 (nor 出勤)
    (_WORKING, PunchKind.CLOCK_IN): PunchKind.CLOCK_OUT,       # 出勤 twice: the last 退勤 is missing
    (_WORKING, PunchKind.BREAK_END): PunchKind.BREAK_START,    # 休憩終了 with no 休憩開始
    (_ON_BREAK, PunchKind.CLOCK_IN): PunchKind.BREAK_END,      # 出勤 during a break
    (_ON_BREAK, PunchKind.CLOCK_OUT): PunchKind.BREAK_END,     # 退勤 during a break
    (_ON_BREAK, PunchKind.BREAK_START): PunchKind.BREAK_END,   # 休憩開始 twice
}


def missing_before(kind: PunchKind, earlier: Sequence[PunchKind]) -> PunchKind | None:
    """The punch type that should have come before ``kind``, given the employee's earlier punches of the work
    day (oldest first), or None when ``kind`` follows them. Each punch moves the day's state (off → working →
    on break ...) whether or not it followed: the question is only ever about the punch being made."""
    state = _OFF
    for previous in earlier:
        state = _AFTER[previous]
    return _MISSING.get((state, kind))
