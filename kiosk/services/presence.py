"""出勤状況 (issue 12, item 6): who is in now, for the employees of this recorder's scope. No Kivy.

Two views are merged: this kiosk's ledger (its punches since the business day began, sent or not; refused and
cancelled ones do not count) and, when online, the server's (``GET /v1/presence``: the last accepted punch of
each employee today, from every recorder). Per employee the later punch wins: a punch at another recorder that
the server already has beats an older one here, and a punch here that is not sent yet beats the server's.

The business day starts at midnight of the kiosk's time zone (``settings.timezone``, the company's day) on the
kiosk's clock (NTP / server / local, with its offset): never the machine's UTC date. A night shift that began
before midnight shows as not in after it (a limit; the server's answer follows the same rule).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from enum import Enum
from typing import Callable, Iterable

from dakoku_core.domain.model import Employee, Punch, PunchKind
from dakoku_core.errors import KioskError
from kiosk.ports import MasterData
from kiosk.ports import DayPunches
from kiosk.ports.recorder_api import LastPunch
from kiosk.ports.recorder_api import ClientProvider

log = logging.getLogger(__name__)


class Presence(str, Enum):
    WORKING = "working"      # 出勤中
    ON_BREAK = "on_break"    # 休憩中
    LEFT = "left"            # 退勤

    @classmethod
    def after(cls, kind: PunchKind) -> "Presence":
        return {PunchKind.CLOCK_OUT: cls.LEFT, PunchKind.BREAK_START: cls.ON_BREAK}.get(kind, cls.WORKING)


@dataclass(frozen=True)
class PresenceRow:
    employee: Employee
    state: Presence
    last: LastPunch


@dataclass(frozen=True)
class PresenceBoard:
    day: date
    read_at: datetime
    rows: tuple[PresenceRow, ...] = ()
    server_checked: bool = False            # the server's view is merged in
    server_error: KioskError | None = None  # why it is not (None when simply offline)
    counts: dict = field(default_factory=dict)


def business_day_start(now: datetime) -> datetime:
    """Midnight of ``now``'s date in ``now``'s own time zone (``now`` must be aware)."""
    return datetime.combine(now.date(), time(0), tzinfo=now.tzinfo)


def from_ledger(employee_key: str, punches: Iterable[Punch]) -> LastPunch | None:
    """The last of the day's punches (oldest first) and the first 出勤 among them."""
    punches = list(punches)
    if not punches:
        return None
    clock_in = next((p.stamped_at for p in punches if p.kind is PunchKind.CLOCK_IN), None)
    last = punches[-1]
    return LastPunch(employee_key, last.kind, last.stamped_at, clock_in, "ledger")


def merge(ledger: dict[str, LastPunch], server: dict[str, LastPunch]) -> dict[str, LastPunch]:
    """Per employee the later punch; the first 出勤 is the earlier one either view knows."""
    merged: dict[str, LastPunch] = {}
    for key in ledger.keys() | server.keys():
        views = [v for v in (ledger.get(key), server.get(key)) if v is not None]
        latest = max(views, key=lambda v: (v.at, v.source == "ledger"))    # a tie: the same punch, say ledger
        starts = [v.clock_in_at for v in views if v.clock_in_at is not None]
        merged[key] = LastPunch(key, latest.kind, latest.at, min(starts) if starts else None, latest.source)
    return merged


class PresenceService:
    def __init__(self, master: MasterData, punches: DayPunches, now: Callable[[], datetime],
                 client: ClientProvider, *, is_online: Callable[[], bool],
                 employees: Callable[[], list[Employee]]):
        self._master, self._punches, self._now = master, punches, now
        self._client, self._is_online, self._employees = client, is_online, employees

    def board(self) -> PresenceBoard:
        now = self._now()
        start = business_day_start(now)
        employees = {e.key: e for e in self._employees()}
        ledger = {}
        for key in employees:
            last = from_ledger(key, self._punches.punches_since(key, start - timedelta(microseconds=1)))
            if last is not None:
                ledger[key] = last
        server, checked, error = self._server_view(start)
        merged = merge(ledger, {k: v for k, v in server.items() if k in employees})
        rows = [PresenceRow(employees[k], Presence.after(v.kind), v) for k, v in merged.items()]
        order = list(Presence)
        rows.sort(key=lambda r: (order.index(r.state), r.employee.kana, r.employee.code))
        counts = {state: sum(1 for r in rows if r.state is state) for state in Presence}
        return PresenceBoard(now.date(), now, tuple(rows), checked, error, counts)

    def _server_view(self, start: datetime) -> tuple[dict[str, LastPunch], bool, KioskError | None]:
        client = self._client()
        if client is None or not self._is_online():
            return {}, False, None
        try:
            answer = client.presence()
        except KioskError as error:          # the ledger's view still stands; the screen says why
            log.warning("presence: the server's view is missing: %s", error)
            return {}, False, error
        return {p.employee_key: p for p in answer if p.at >= start}, True, None
