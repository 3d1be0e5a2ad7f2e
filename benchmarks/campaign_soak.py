"""Soak campaign (issue 10): the kiosk's services punch, sync and データ更新 against the reference server for a long
time, and this process's resident memory (RSS) and open file descriptors are sampled.

One card punch per second (by default) through the real PunchService into the SQLite ledger, the real outbox worker
(SyncService, its timer and the wake-up a punch gives) uploading to the reference server over loopback TLS, and a
データ更新 (DataUpdateService, ETag pull) every ``--update-every`` seconds (one employee is changed on the server first, so each one pulls and applies). 100 employees with cards (more at higher
rates) take turns, so the 60 s re-authentication interval never refuses one. Every ``--sample-every`` seconds RSS (from
/proc/self/status) and the number of open fds (/proc/self/fd) are sampled, and the server's RSS (its process group); at the end the slopes are fitted by least
squares over the samples after the warm-up (the first ``--warmup`` seconds), and the punches are checked: every
acknowledged punch is synced, exactly once in the server's record. Stops by itself after ``--minutes``.

Prints ``name: value unit`` lines. Not a test: read the figures, don't assert them (it exits 1 only when a punch was
lost or duplicated).

    python benchmarks/campaign_soak.py [--minutes 60] [--rate 1.0]
"""
from __future__ import annotations

import argparse
import ctypes
import ctypes.util
import os
import sqlite3
import sys
import time
import tracemalloc
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from demo_server import DemoServer  # noqa: E402
from kiosk.adapters.memory import release_free_memory  # noqa: E402
from kiosk.adapters.ledger import SqliteMasterData, SqlitePunchLedger, open_ledger  # noqa: E402
from kiosk.adapters.ledger.master_sync import SqliteMasterSync  # noqa: E402
from kiosk.adapters.ledger.outbox import SqliteOutbox  # noqa: E402
from dakoku_core.domain.model import ClockReading, PunchKind, TimeSource  # noqa: E402
from dakoku_server import admin  # noqa: E402
from kiosk.services.data_update import DataUpdateService  # noqa: E402
from kiosk.services.punch import PunchService  # noqa: E402
from kiosk.services.recorder_api import ClientSlot  # noqa: E402
from kiosk.services.sync import SyncService  # noqa: E402

JST = timezone(timedelta(hours=9))


class WallClock:
    """The machine's clock, labelled local (time sync is the clock campaign's subject, not this one's)."""

    def read(self) -> ClockReading:
        return ClockReading(datetime.now(JST), TimeSource.LOCAL)


def rss_kb() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def _sqlite_library():
    """The SQLite library Python's sqlite3 module is linked to (the same loaded copy), or None."""
    try:
        lib = ctypes.CDLL(ctypes.util.find_library("sqlite3") or "libsqlite3.so.0")
        lib.sqlite3_memory_used.restype = ctypes.c_int64
        return lib
    except (OSError, AttributeError):
        return None


SQLITE = _sqlite_library()


def sqlite_kb() -> int:
    """The heap SQLite holds right now (page caches of every connection, schema, statements), in KB."""
    return SQLITE.sqlite3_memory_used() // 1024 if SQLITE is not None else 0


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def group_rss_kb(pgid: int) -> int:
    """RSS of every process in a process group (the server: its CLI, gunicorn's master and workers)."""
    total = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
            if int(stat.rsplit(")", 1)[1].split()[2]) == pgid:
                total += int(stat.rsplit(")", 1)[1].split()[21]) * os.sysconf("SC_PAGE_SIZE") // 1024
        except (OSError, ValueError, IndexError):
            continue
    return total


def slope_per_minute(samples: list[tuple[float, float]]) -> float:
    """Least-squares slope of (seconds, value) samples, per minute."""
    if len(samples) < 2:
        return 0.0
    n = len(samples)
    mean_t = sum(t for t, _ in samples) / n
    mean_v = sum(v for _, v in samples) / n
    var = sum((t - mean_t) ** 2 for t, _ in samples)
    cov = sum((t - mean_t) * (v - mean_v) for t, v in samples)
    return cov / var * 60.0 if var else 0.0


def add_card_holders(count: int) -> list[str]:
    demo = admin.company("DEMO")
    cards = []
    for n in range(count):
        code = f"S{n:04d}"
        admin.add_employee(demo, code, "耐久", "HQ", "FULL", hired_on="2020-04-01")
        card = f"50AC{n:012X}"
        admin.add_card(demo, code, card)
        cards.append(card)
    return cards


def server_rows(db_path: Path, uuids: list[str]) -> dict[str, int]:
    with sqlite3.connect(db_path, timeout=30) as db:
        counts = dict(db.execute("SELECT uuid, COUNT(*) FROM punch GROUP BY uuid").fetchall())
    return {u: counts.get(u, 0) for u in uuids}


def run(args) -> int:
    demo = DemoServer("soak-")
    employees = max(100, int(args.rate * 90))      # each card comes round after more than 60 s
    cards = add_card_holders(employees)
    server = demo.start()
    ledger_db = open_ledger(demo.work / "kiosk" / "ledger.sqlite3")
    master = SqliteMasterData(ledger_db)
    outbox = SqliteOutbox(ledger_db)
    slot = ClientSlot(demo.provisioning().client(timeout=(5.0, 30.0)))
    updates = DataUpdateService(SqliteMasterSync(ledger_db, master), slot)
    updates.update()
    sync = SyncService(outbox, slot, interval=args.sync_every, min_backoff=1.0)
    punch = PunchService(master, SqlitePunchLedger(ledger_db), WallClock(), reauth_interval=timedelta(seconds=60),
                         is_online=sync.is_online, on_recorded=sync.notify)
    sync.start()
    acks = demo.work / "acknowledged.txt"
    try:
        with open(acks, "w", encoding="ascii") as out:
            samples, errors = soak(args, punch, updates, cards, server.process.pid, out)
        sync.stop()
        final = sync.drain()
    finally:
        sync.stop()
        server.stop()
    acknowledged = acks.read_text("ascii").split()
    return report(args, samples, acknowledged, errors, final, server_rows(demo.work / "server.sqlite", acknowledged))


def soak(args, punch: PunchService, updates: DataUpdateService, cards: list[str], server_pgid: int, acks):
    """Punch at ``args.rate`` until the time is up, with a データ更新 and a sample on their own periods. The
    acknowledged UUIDs go to the file ``acks``, not to a list, so the harness itself does not grow."""
    samples: list[tuple[float, int, int, int, int]] = []
    errors: dict[str, int] = {}
    started = time.monotonic()
    next_sample = next_update = started
    i = 0
    while time.monotonic() < started + args.minutes * 60:
        now = time.monotonic()
        if args.tracemalloc and not tracemalloc.is_tracing() and now - started >= args.warmup:
            tracemalloc.start(args.tracemalloc)         # after the warm-up: only what keeps growing shows
            baseline = tracemalloc.take_snapshot()
        if now >= next_sample:
            if args.malloc_trim:
                release_free_memory()                   # as the kiosk's housekeeping timer does
            samples.append((now - started, rss_kb(), open_fds(), group_rss_kb(server_pgid), sqlite_kb()))
            next_sample += args.sample_every
        if now >= next_update:
            admin.update_employee(admin.company("DEMO"), "S0000", first_name=f"更新{i}")   # real work to pull
            updates.update()
            next_update += args.update_every
        kind = PunchKind.CLOCK_IN if (i // len(cards)) % 2 == 0 else PunchKind.CLOCK_OUT
        try:
            acks.write(punch.punch_with_card(kind, cards[i % len(cards)]).punch.uuid + "\n")
        except Exception as exc:  # noqa: BLE001 - counted and printed, the soak goes on
            name = getattr(exc, "key", type(exc).__name__)
            errors[name] = errors.get(name, 0) + 1
        i += 1
        time.sleep(max(0.0, started + i / args.rate - time.monotonic()))
    if tracemalloc.is_tracing():
        print_growth(baseline, tracemalloc.take_snapshot())
        tracemalloc.stop()
    return samples, errors


def print_growth(before, after, top: int = 15) -> None:
    """The Python allocations that grew most between two snapshots, by the stack that made them (tracemalloc sees
    Python objects only: SQLite's page cache and OpenSSL's buffers are C allocations it cannot see)."""
    skip = (tracemalloc.Filter(False, tracemalloc.__file__), tracemalloc.Filter(False, "<frozen importlib._bootstrap>"))
    stats = after.filter_traces(skip).compare_to(before.filter_traces(skip), "traceback")
    grown = [s for s in stats if s.size_diff > 0]
    print(f"soak_python_heap_growth: {sum(s.size_diff for s in stats) / 1024:.1f} KB "
          f"(traced allocations, after the warm-up)")
    for stat in grown[:top]:
        frames = " <- ".join(f"{Path(f.filename).name}:{f.lineno}" for f in reversed(stat.traceback[-8:]))
        print(f"soak_growth: {stat.size_diff / 1024:+.1f} KB in {stat.count_diff:+d} blocks at {frames}")


def report(args, samples, acknowledged, errors, final, on_server) -> int:
    warm = [s for s in samples if s[0] >= args.warmup] or samples
    rss_slope = slope_per_minute([(t, r) for t, r, _, _, _ in warm])
    fd_slope = slope_per_minute([(t, f) for t, _, f, _, _ in warm])
    server_slope = slope_per_minute([(t, s) for t, _, _, s, _ in warm])
    sqlite_slope = slope_per_minute([(t, q) for t, _, _, _, q in warm])
    rest_slope = slope_per_minute([(t, r - q) for t, r, _, _, q in warm])
    late = warm[len(warm) // 2:]                     # the second half: does the growth level off?
    late_slope = slope_per_minute([(t, r) for t, r, _, _, _ in late])
    lost = sum(1 for n in on_server.values() if n == 0)
    doubled = sum(1 for n in on_server.values() if n > 1)
    print(f"soak_minutes: {args.minutes:g} min")
    print(f"soak_punches_acknowledged: {len(acknowledged)}")
    print(f"soak_punch_errors: {errors or 0}")
    print(f"soak_pending_at_end: {final.pending}")
    print(f"soak_lost_at_server: {lost}")
    print(f"soak_duplicated_at_server: {doubled}")
    print(f"soak_samples: {len(samples)} (after warm-up: {len(warm)})")
    print(f"soak_rss_start_end: {warm[0][1]} -> {warm[-1][1]} KB")
    print(f"soak_fds_start_end: {warm[0][2]} -> {warm[-1][2]}")
    print(f"soak_rss_slope: {rss_slope:.1f} KB/min")
    print(f"soak_rss_slope_second_half: {late_slope:.1f} KB/min")
    print(f"soak_sqlite_heap_start_end: {warm[0][4]} -> {warm[-1][4]} KB")
    print(f"soak_sqlite_heap_slope: {sqlite_slope:.1f} KB/min")
    print(f"soak_rss_without_sqlite_slope: {rest_slope:.1f} KB/min")
    print(f"soak_fd_slope: {fd_slope:.3f} fds/min")
    print(f"soak_server_rss_start_end: {warm[0][3]} -> {warm[-1][3]} KB")
    print(f"soak_server_rss_slope: {server_slope:.1f} KB/min")
    return 1 if lost or doubled or final.pending else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=60.0)
    parser.add_argument("--rate", type=float, default=1.0, help="punches per second")
    parser.add_argument("--sync-every", type=float, default=10.0, help="outbox worker timer, seconds")
    parser.add_argument("--update-every", type=float, default=60.0, help="データ更新 every N seconds")
    parser.add_argument("--sample-every", type=float, default=10.0)
    parser.add_argument("--warmup", type=float, default=60.0, help="seconds left out of the slopes")
    parser.add_argument("--malloc-trim", action="store_true",
                        help="give free heap pages back to the OS before each sample, as the kiosk's timer does")
    parser.add_argument("--tracemalloc", type=int, default=0, metavar="FRAMES",
                        help="trace Python allocations after the warm-up (stack depth FRAMES) and print what grew")
    sys.exit(run(parser.parse_args()))


if __name__ == "__main__":
    main()
