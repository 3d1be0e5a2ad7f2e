"""Punch path latency: "credential read" → punch committed (durable) and the result ready.

Runs the real PunchService and SQLite ledger (WAL, synchronous=FULL) on the disk of --dir, with the
ledger empty and with 1,000,000 existing punches, and prints on the same run the floor: a bare durable
SQLite INSERT+COMMIT with the same pragmas on the same disk. Prints one ``name: value unit`` line per
figure. Not a test: timings on a shared machine are noisy, so read them, don't assert them.

    python benchmarks/punch_path.py [--punches 1000] [--existing 1000000] [--dir DIR]
"""
from __future__ import annotations

import argparse
import sqlite3
import statistics
import tempfile
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

from kiosk.adapters.ledger import SqliteMasterData, SqlitePunchLedger, open_ledger
from kiosk.adapters.ledger.db import PRAGMAS
from dakoku_core.demo import DEMO_CARDS, seed_demo
from dakoku_core.domain.model import ClockReading, PunchKind, TimeSource
from kiosk.services.punch import PunchService

JST = timezone(timedelta(hours=9))
OK_CARDS = [c.card_id for c in DEMO_CARDS if c.role in ("normal", "password")]


class TickingClock:
    def __init__(self, start: datetime):
        self.at = start

    def read(self) -> ClockReading:
        self.at += timedelta(milliseconds=1)
        return ClockReading(self.at, TimeSource.LOCAL)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def fill_existing(path: Path, rows: int) -> None:
    """Bulk-load ``rows`` historical punches (1,000 employees, a few years) in one transaction."""
    con = sqlite3.connect(path)
    start = datetime(2022, 1, 1, tzinfo=timezone.utc)
    batch = []
    with con:
        for i in range(rows):
            at = (start + timedelta(seconds=90 * i)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
            batch.append((str(uuid.uuid4()), f"H{i % 1000:04d}", "clock_in", at, 540, "local", 1, "card", "R001",
                          at, "synced"))
            if len(batch) == 50_000:
                con.executemany("INSERT INTO punch (uuid, employee_key, kind, stamped_at_utc, utc_offset_min, "
                                "time_source, offline, auth_method, recorder_code, created_at_utc, sync_state) "
                                "VALUES (?,?,?,?,?,?,?,?,?,?,?)", batch)
                batch.clear()
        if batch:
            con.executemany("INSERT INTO punch (uuid, employee_key, kind, stamped_at_utc, utc_offset_min, "
                            "time_source, offline, auth_method, recorder_code, created_at_utc, sync_state) "
                            "VALUES (?,?,?,?,?,?,?,?,?,?,?)", batch)
    con.close()


def service_latencies(path: Path, punches: int, existing: int) -> tuple[list[float], float]:
    db = open_ledger(path)
    master = SqliteMasterData(db)
    # 出勤 again and again: the recorder's interval and sequence warning off (as a server could set them)
    seed_demo(master, datetime(2026, 11, 25).date(),
              recorder_settings={"reauth_interval_seconds": 0, "sequence_warning": False})
    if existing:
        fill_existing(path, existing)
    service = PunchService(master, SqlitePunchLedger(db), TickingClock(datetime(2026, 11, 25, 9, tzinfo=JST)))
    latencies = []
    started = time.perf_counter()
    for i in range(punches):
        t0 = time.perf_counter()
        service.punch_with_card(PunchKind.CLOCK_IN, OK_CARDS[i % len(OK_CARDS)])
        latencies.append(time.perf_counter() - t0)
    elapsed = time.perf_counter() - started
    db.close()
    return latencies, punches / elapsed


def floor_latencies(path: Path, punches: int) -> list[float]:
    con = sqlite3.connect(path, isolation_level=None)
    con.execute(f"PRAGMA journal_mode={PRAGMAS['journal_mode']}")
    con.execute(f"PRAGMA synchronous={PRAGMAS['synchronous']}")
    con.execute("CREATE TABLE t (uuid TEXT PRIMARY KEY, employee_key TEXT, stamped_at_utc TEXT)")
    latencies = []
    for i in range(punches):
        t0 = time.perf_counter()
        con.execute("BEGIN IMMEDIATE")
        con.execute("INSERT INTO t VALUES (?, ?, ?)", (str(uuid.uuid4()), f"E{i % 8}", f"{i:020d}"))
        con.execute("COMMIT")
        latencies.append(time.perf_counter() - t0)
    con.close()
    return latencies


def report(name: str, values: list[float]) -> None:
    print(f"{name}_p50: {percentile(values, 50) * 1000:.3f} ms")
    print(f"{name}_p95: {percentile(values, 95) * 1000:.3f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--punches", type=int, default=1000)
    parser.add_argument("--existing", type=int, default=1_000_000)
    parser.add_argument("--dir", type=Path, default=Path.cwd(), help="a directory on the disk to measure")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=args.dir, prefix="punch-bench-") as tmp:
        tmp = Path(tmp)
        floor = floor_latencies(tmp / "floor.sqlite3", args.punches)
        empty, rate_empty = service_latencies(tmp / "empty.sqlite3", args.punches, 0)
        t0 = time.perf_counter()
        full, rate_full = service_latencies(tmp / "full.sqlite3", args.punches, args.existing)
        print(f"setup_existing_rows: {args.existing} rows")
        print(f"setup_fill_time: {time.perf_counter() - t0:.1f} s")
    report("floor_insert_commit", floor)
    report("punch_empty", empty)
    report("punch_1m", full)
    print(f"punch_1m_mean: {statistics.fmean(full) * 1000:.3f} ms")
    print(f"ratio_p95_1m_to_floor: {percentile(full, 95) / percentile(floor, 95):.2f} x")
    print(f"ratio_p50_1m_to_floor: {percentile(full, 50) / percentile(floor, 50):.2f} x")
    print(f"throughput_empty: {rate_empty:.0f} punches/s")
    print(f"throughput_1m: {rate_full:.0f} punches/s")


if __name__ == "__main__":
    main()
