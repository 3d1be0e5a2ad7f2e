"""出勤状況 at scale: the time to build the board (the ledger's day merged with a server answer) for N in-scope
employees, each with a day of punches in a real SQLite ledger on disk. Prints figures; not a timed test.

    .venv/bin/python benchmarks/presence_board.py [--employees 1000] [--runs 5]
"""
from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

from kiosk.adapters.ledger import SqliteMasterData, SqlitePunchLedger, open_ledger
from dakoku_core.domain.model import AuthMethod, Employee, Punch, PunchKind, TimeSource
from kiosk.services.presence import PresenceService
from kiosk.ports.recorder_api import LastPunch

JST = timezone(timedelta(hours=9))
DAY = (PunchKind.CLOCK_IN, PunchKind.BREAK_START, PunchKind.BREAK_END, PunchKind.CLOCK_OUT)


class Answer:
    def __init__(self, rows):
        self.rows = rows

    def presence(self, situation=None):
        return self.rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--employees", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    now = datetime(2026, 3, 2, 18, 0, tzinfo=JST)
    employees = [Employee(f"k{n:05d}", f"{n:05d}", "社員", str(n), "HQ", "FULL", kana="シャイン")
                 for n in range(args.employees)]
    with tempfile.TemporaryDirectory() as directory:
        db = open_ledger(Path(directory) / "ledger.sqlite3")
        punches = SqlitePunchLedger(db)
        for i, e in enumerate(employees):
            for j, kind in enumerate(DAY[: 1 + i % 4]):
                punches.record(Punch(e.key, kind, now - timedelta(hours=9 - 2 * j, minutes=i % 50),
                                     TimeSource.NTP, False, AuthMethod.CARD, "R001"))
        server = Answer([LastPunch(e.key, PunchKind.CLOCK_OUT, now - timedelta(minutes=5), None, "server")
                         for e in employees[::3]])
        service = PresenceService(SqliteMasterData(db), punches, lambda: now, lambda: server,
                                  is_online=lambda: True, employees=lambda: employees)
        times = []
        for _ in range(args.runs):
            start = time.perf_counter()
            board = service.board()
            times.append(time.perf_counter() - start)
        db.close()
    print(f"employees {args.employees}, punches {sum(1 + i % 4 for i in range(args.employees))}, "
          f"rows {len(board.rows)}: board built in median {statistics.median(times) * 1000:.0f} ms "
          f"(min {min(times) * 1000:.0f}, max {max(times) * 1000:.0f}) over {args.runs} runs")


if __name__ == "__main__":
    main()
