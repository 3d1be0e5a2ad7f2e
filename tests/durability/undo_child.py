"""Child process for the 取り消し SIGKILL test (test_undo_sigkill.py): punches forever and cancels every other
punch at once, printing ``P <uuid>`` after each punch and ``C <uuid> <punch uuid>`` after each correction was
acknowledged (UndoService.cancel returned: the ledger commit), i.e. exactly what the kiosk confirms on screen."""
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

from kiosk.adapters.ledger import SqliteMasterData, SqlitePunchLedger, open_ledger
from kiosk.demo import DEMO_CARDS, seed_demo
from kiosk.domain.model import ClockReading, PunchKind, TimeSource
from kiosk.services.punch import PunchService
from kiosk.services.undo import UndoService


class TickingClock:
    """Each reading one millisecond later (a fixed day: the ledger alone, no business day involved)."""

    def __init__(self):
        self.at = datetime(2026, 11, 25, 9, tzinfo=timezone(timedelta(hours=9)))

    def read(self):
        self.at += timedelta(milliseconds=1)
        return ClockReading(self.at, TimeSource.LOCAL)


def main(path: str) -> None:
    db = open_ledger(Path(path))
    master, punches = SqliteMasterData(db), SqlitePunchLedger(db)
    if master.recorder() is None:
        seed_demo(master, datetime(2026, 11, 25).date(),
                  recorder_settings={"reauth_interval_seconds": 0, "sequence_warning": False})
    clock = TickingClock()
    service = PunchService(master, punches, clock)
    undo = UndoService(punches, clock, window_seconds=5, forget=service.forget)
    cards = [c.card_id for c in DEMO_CARDS[:2]]
    print("ready", flush=True)
    i = 0
    while True:
        punch = service.punch_with_card(PunchKind.CLOCK_IN, cards[i % 2]).punch
        sys.stdout.write(f"P {punch.uuid}\n")
        sys.stdout.flush()
        if i % 2 == 0:
            correction = undo.cancel(punch)
            sys.stdout.write(f"C {correction.uuid} {punch.uuid}\n")
            sys.stdout.flush()
        i += 1


if __name__ == "__main__":
    main(sys.argv[1])
