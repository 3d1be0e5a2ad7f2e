"""Child process for the SIGKILL durability test: punches forever, printing each acknowledged UUID.

A UUID is printed only after PunchService returned, i.e. after the ledger commit: exactly what the kiosk
would acknowledge on screen."""
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

from kiosk.adapters.ledger import SqliteMasterData, SqlitePunchLedger, open_ledger
from kiosk.demo import DEMO_CARDS, seed_demo
from kiosk.domain.model import ClockReading, PunchKind, TimeSource
from kiosk.services.punch import PunchService


class TickingClock:
    """Each reading one millisecond later, so punches never collide in time."""

    def __init__(self):
        self.at = datetime(2026, 11, 25, 9, tzinfo=timezone(timedelta(hours=9)))

    def read(self):
        self.at += timedelta(milliseconds=1)
        return ClockReading(self.at, TimeSource.LOCAL)


def main(path: str) -> None:
    db = open_ledger(Path(path))
    master = SqliteMasterData(db)
    if master.recorder() is None:
        # the same type again and again, 1 ms apart: the server's interval and sequence warning off
        seed_demo(master, datetime(2026, 11, 25).date(),
                  recorder_settings={"reauth_interval_seconds": 0, "sequence_warning": False})
    service = PunchService(master, SqlitePunchLedger(db), TickingClock())
    cards = [c.card_id for c in DEMO_CARDS[:2]]
    print("ready", flush=True)
    i = 0
    while True:
        result = service.punch_with_card(PunchKind.CLOCK_IN, cards[i % 2])
        sys.stdout.write(result.punch.uuid + "\n")
        sys.stdout.flush()
        i += 1


if __name__ == "__main__":
    main(sys.argv[1])
