"""The crash campaign's child processes, forked from one pre-imported parent (a "zygote"), so a round costs a fork,
not a Python start-up.

The zygote reads JSON commands on stdin, one a line, and answers one JSON line each:
- ``{"op": "run", "scenario": S, ...}`` forks a child running scenario S → ``{"pid": N}``; the campaign then
  SIGKILLs that pid at a random moment;
- ``{"op": "wait", "pid": N}`` reaps it → ``{"status": ...}``.
A child writes what it acknowledged to its ``acks`` file, one line each, with one write(2) after the acknowledged
operation returned (a line without its newline was torn by the kill: not acknowledged). A child that is never killed
ends itself after ``max_seconds``.

Scenarios:
- ``punch_sync``: card punches into the shared ledger while the outbox worker uploads small batches to the reference
  server over TLS (batches are in flight when the kill comes). Ack: ``P <uuid>``.
- ``settings``: save_settings_value alternating two whole documents' worth of values. Ack: ``S <n>`` after save n.
- ``migrate``: create or reopen a ledger (kills land in the creation and the migrations), then punch offline into
  it with demo master data. Acks: ``M <user_version>`` once migrated, then ``P <uuid>``.
- ``prepare``: no kill: データ更新 into the shared ledger (the server's employees, cards and card key).
- ``drain``: no kill: upload everything pending, then ``D <pending> <synced> <rejected>``.
"""
from __future__ import annotations

import json
import os
import sys
import threading
from datetime import datetime, timedelta, timezone
from pathlib import Path

from kiosk.adapters.ledger import SqliteMasterData, SqlitePunchLedger, open_ledger
from kiosk.adapters.ledger.outbox import SqliteOutbox
from kiosk.adapters.recorder_client import RetryPolicy
from dakoku_core.demo import seed_demo
from dakoku_core.errors import KioskError
from dakoku_core.domain.model import ClockReading, PunchKind, TimeSource
from kiosk.services.punch import PunchService
from kiosk.services.recorder_api import ClientSlot
from kiosk.services.sync import SyncService
from kiosk.settings import save_settings_value
from tests.sync.harness import Provisioning

try:
    from kiosk.adapters.ledger.db import open_ledger_at_start
except ImportError:  # pragma: no cover - before the start-up checks existed
    open_ledger_at_start = None

JST = timezone(timedelta(hours=9))
FAST = RetryPolicy(attempts=2, max_elapsed=5.0, initial_wait=0.01, max_wait=0.05, max_retry_after=1.0)


class MinuteClock:
    """Each reading one minute after the last, from ``base``: three employees taking turns stay clear of the
    server's 60 s re-authentication interval."""

    def __init__(self, base: datetime):
        self.at = base

    def read(self) -> ClockReading:
        self.at += timedelta(minutes=1)
        return ClockReading(self.at, TimeSource.NTP)


def _client(cmd: dict):
    prov = Provisioning(cmd["connection"], cmd["certificate"])
    return prov.client(retry=FAST, timeout=(1.0, 2.0))


def punch_sync(cmd: dict, ack) -> None:
    db = open_ledger(Path(cmd["ledger"]))
    master = SqliteMasterData(db)
    sync = SyncService(SqliteOutbox(db), ClientSlot(_client(cmd)), batch_size=cmd.get("batch", 10), interval=0.2,
                       min_backoff=0.02, heartbeat=False)
    service = PunchService(master, SqlitePunchLedger(db), MinuteClock(datetime.fromisoformat(cmd["base"])),
                           reauth_interval=timedelta(seconds=60), on_recorded=sync.notify)
    sync.start()
    cards = cmd["cards"]
    i = 0
    while True:
        kind = PunchKind.CLOCK_IN if (i // len(cards)) % 2 == 0 else PunchKind.CLOCK_OUT
        ack(f"P {punch_once(service, kind, cards[i % len(cards)]).punch.uuid}")
        i += 1


def punch_once(service: PunchService, kind: PunchKind, card: str):
    """A card punch; when the server's sequence warning asks (打刻時警告), the employee answers はい."""
    try:
        return service.punch_with_card(kind, card)
    except KioskError as exc:
        if exc.key == "sequence_warning" and hasattr(service, "confirm"):
            return service.confirm(exc)
        raise


def settings(cmd: dict, ack) -> None:
    path = Path(cmd["path"])
    n = cmd["start"]
    while True:
        n += 1
        save_settings_value(path, SETTINGS_KEY, settings_value(n))
        ack(f"S {n}")


SETTINGS_KEY = "manager_pin_hash"


def settings_value(n: int) -> str:
    """About 8 KB that name ``n`` at both ends and all along (a torn mix of two saves would not read as either)."""
    return f"{n}:" + f"保存{n}-" * 800 + f":{n}"


def migrate(cmd: dict, ack) -> None:
    path = Path(cmd["ledger"])
    if open_ledger_at_start is not None:
        db, damage = open_ledger_at_start(path)
        if damage is not None:
            ack(f"X {damage.key}")
    else:
        db = open_ledger(path)
    version = db.db.execute_sql("PRAGMA user_version").fetchone()[0]
    ack(f"M {version}")
    master = SqliteMasterData(db)
    if master.recorder() is None:
        seed_demo(master, datetime(2026, 11, 25).date())
        ack("seeded")
    from dakoku_core.demo import DEMO_CARDS

    service = PunchService(master, SqlitePunchLedger(db), MinuteClock(datetime.fromisoformat(cmd["base"])),
                           reauth_interval=timedelta(0))
    cards = [c.card_id for c in DEMO_CARDS[:3]]
    i = 0
    while True:
        ack(f"P {punch_once(service, PunchKind.CLOCK_IN, cards[i % 3]).punch.uuid}")
        i += 1


def prepare(cmd: dict, ack) -> None:
    """No kill: create the shared ledger and pull the server's master data into it (データ更新)."""
    from kiosk.adapters.ledger.master_sync import SqliteMasterSync
    from kiosk.services.data_update import DataUpdateService

    db = open_ledger(Path(cmd["ledger"]))
    result = DataUpdateService(SqliteMasterSync(db, SqliteMasterData(db)), ClientSlot(_client(cmd))).update()
    ack(f"U {result.employees}")


def drain(cmd: dict, ack) -> None:
    db = open_ledger(Path(cmd["ledger"]))
    outbox = SqliteOutbox(db)
    sync = SyncService(outbox, ClientSlot(_client(cmd)), batch_size=500)
    for _ in range(20):
        if sync.drain().pending == 0:
            break
    counts = outbox.counts()
    ack(f"D {counts.pending} {counts.synced} {counts.rejected}")


SCENARIOS = {"punch_sync": punch_sync, "settings": settings, "migrate": migrate, "prepare": prepare, "drain": drain}


def child(cmd: dict) -> None:
    fd = os.open(cmd["acks"], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)

    def ack(line: str) -> None:
        os.write(fd, (line + "\n").encode())

    watchdog = threading.Timer(cmd.get("max_seconds", 60), lambda: os._exit(3))
    watchdog.daemon = True
    watchdog.start()
    try:
        SCENARIOS[cmd["scenario"]](cmd, ack)
    except BaseException as exc:  # noqa: BLE001 - reported to the campaign, which counts it as a failure
        ack(f"E {type(exc).__name__}: {exc}".replace("\n", " ")[:500])
        os._exit(2)
    os._exit(0)


def main() -> None:
    for line in sys.stdin:
        cmd = json.loads(line)
        if cmd["op"] == "run":
            pid = os.fork()
            if pid == 0:
                os.close(0)
                child(cmd)
            answer = {"pid": pid}
        else:
            _, status = os.waitpid(cmd["pid"], 0)
            answer = {"status": status}
        sys.stdout.write(json.dumps(answer) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
