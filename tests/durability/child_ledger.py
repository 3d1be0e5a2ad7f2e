"""What the SIGKILL children share (punch_child.py, undo_child.py): a ledger on disk seeded once with the demo
data (the server's re-authentication interval and sequence warning off, so the same type can be punched again
and again), a clock that never repeats, and the two demo cards the children alternate."""
from __future__ import annotations

import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

from kiosk.adapters.ledger import SqliteMasterData, SqlitePunchLedger, open_ledger
from dakoku_core.demo import DEMO_CARDS, seed_demo
from dakoku_core.domain.model import ClockReading, TimeSource
from kiosk.services.punch import PunchService

CARDS = [c.card_id for c in DEMO_CARDS[:2]]


class TickingClock:
    """Each reading one millisecond later, on a fixed day (the ledger alone, no business day involved)."""

    def __init__(self):
        self.at = datetime(2026, 11, 25, 9, tzinfo=timezone(timedelta(hours=9)))

    def read(self):
        self.at += timedelta(milliseconds=1)
        return ClockReading(self.at, TimeSource.LOCAL)


def open_punching(path: str) -> tuple[PunchService, SqlitePunchLedger, TickingClock]:
    """The punch service on the ledger at ``path`` (seeded on first use), its ledger and its clock."""
    db = open_ledger(Path(path))
    master, punches = SqliteMasterData(db), SqlitePunchLedger(db)
    if master.recorder() is None:
        seed_demo(master, datetime(2026, 11, 25).date(),
                  recorder_settings={"reauth_interval_seconds": 0, "sequence_warning": False})
    clock = TickingClock()
    return PunchService(master, punches, clock), punches, clock


def say(line: str) -> None:
    """One acknowledged record, flushed at once: the parent reads what the kiosk would have confirmed."""
    sys.stdout.write(line + "\n")
    sys.stdout.flush()
