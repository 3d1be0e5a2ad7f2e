"""Value types of the time recorder. Pure data: no I/O, no Kivy."""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import Enum


class PunchKind(str, Enum):
    CLOCK_IN = "clock_in"        # 出勤
    CLOCK_OUT = "clock_out"      # 退勤
    BREAK_START = "break_start"  # 休憩開始
    BREAK_END = "break_end"      # 休憩終了

    @property
    def is_break(self) -> bool:
        return self in (PunchKind.BREAK_START, PunchKind.BREAK_END)


class AuthMethod(str, Enum):
    CARD = "card"
    FINGERPRINT = "fingerprint"
    PASSWORD = "password"


class TimeSource(str, Enum):
    NTP = "ntp"
    SERVER = "server"
    LOCAL = "local"


@dataclass(frozen=True)
class Department:
    code: str
    name: str


@dataclass(frozen=True)
class EmploymentType:
    code: str
    name: str
    break_punch_allowed: bool = True


@dataclass(frozen=True, slots=True)   # 10,000 of them in the kiosk's master data: no __dict__ each
class Employee:
    key: str                      # the server's stable id
    code: str                     # 従業員コード
    last_name: str
    first_name: str
    department_code: str
    employment_type_code: str
    login_id: str = ""
    kana: str = ""                # reading, for search by kana initial
    hired_on: date | None = None
    retired_on: date | None = None
    password_punch_allowed: bool = False
    password_hash: str = ""       # scrypt, see dakoku_core.domain.passwords

    @property
    def display_name(self) -> str:
        return f"{self.last_name} {self.first_name}".strip()


@dataclass(frozen=True, slots=True)
class Credential:
    """A card or fingerprint bound to an employee. ``ref`` is a keyed hash, never the raw card ID."""

    employee_key: str
    method: AuthMethod
    ref: str


@dataclass(frozen=True)
class Recorder:
    code: str
    company_code: str
    department_code: str


@dataclass(frozen=True)
class ClockReading:
    """What the kiosk's time service says now: corrected time, its source and whether it is being adjusted."""

    at: datetime          # timezone-aware
    source: TimeSource
    adjusting: bool = False
    monotonic: float | None = field(default=None, compare=False)   # boot clock when read (None: a test clock)


@dataclass(frozen=True)
class Punch:
    employee_key: str
    kind: PunchKind
    stamped_at: datetime  # timezone-aware
    time_source: TimeSource
    offline: bool
    auth_method: AuthMethod
    recorder_code: str
    uuid: str = field(default_factory=lambda: str(uuid.uuid4()))
    # the master-data version whose recorder settings judged it (None: made before kiosks recorded it);
    # the server judges it with the same settings (issue 9)
    master_version: int | None = None


CANCEL = "cancel"   # the kind of a correction, in the ledger and on the wire (never a PunchKind: no button)


@dataclass(frozen=True)
class Correction:
    """取り消し: the employee withdrew the punch ``cancels`` (its UUID) on the confirmation screen. An entry of
    its own in the ledger and the record, stamped at the tap; the punch itself is never changed or deleted."""

    cancels: str
    employee_key: str
    stamped_at: datetime  # timezone-aware
    time_source: TimeSource
    offline: bool
    recorder_code: str
    uuid: str = field(default_factory=lambda: str(uuid.uuid4()))

    kind = CANCEL


@dataclass(frozen=True)
class PunchResult:
    """What the confirmation shows once the punch is durable."""

    punch: Punch
    employee: Employee
    greeting_key: str
