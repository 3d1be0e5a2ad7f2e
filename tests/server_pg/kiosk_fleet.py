"""Simulated kiosks against a real server: the load test's generator and its count in the database.

Each kiosk is a thread running the kiosk's own client code: ``KioskRecorderClient`` (signed requests, tenacity
retries, catalogue errors) for its データ更新 (``master_data``, a full pull as at start-up), then its backlog
drained by the real ``SyncService`` (batches of ``batch_size``, the kiosk's default 500) from an in-memory
outbox. Kiosk ``i`` starts ``i * ramp / kiosks`` seconds after the first (``ramp`` 0: all at once).
Every request's wall time is recorded (retries included). Afterwards :func:`count_in_database` reads the
server's punch table: *lost* = punches the server acknowledged (the outbox marked them synced or rejected)
that are not stored; *duplicated* = rows beyond one per (company, uuid) sent.
"""
from __future__ import annotations

import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from kiosk.adapters.ledger.outbox import OutboxCounts
from kiosk.adapters.recorder_client import KioskRecorderClient, RetryPolicy
from dakoku_core.domain.model import AuthMethod, Punch, PunchKind, TimeSource
from dakoku_core.errors import KioskError
from dakoku_server.db import Company, Punch as StoredPunch
from kiosk.services.sync import SyncService
from tests.server_pg.fleet_setup import KioskPlan
from tests.support.provisioning import Provisioning

LOAD_RETRY = RetryPolicy(attempts=4, max_elapsed=120.0, initial_wait=0.5, max_wait=8.0)


class MemoryOutbox:
    """The kiosk's outbox (kiosk.services.sync.Outbox) in memory: state per UUID, sent in order."""

    def __init__(self, punches: list[Punch]):
        self.punches = punches
        self.state = {p.uuid: "pending" for p in punches}

    def pending_batch(self, limit: int = 500) -> list[Punch]:
        return [p for p in self.punches if self.state[p.uuid] == "pending"][:limit]

    def mark(self, *, synced=(), rejected=(), failed=(), error: str = "") -> None:
        for uuid in synced:
            self.state[uuid] = "synced"
        for uuid, _key in rejected:
            self.state[uuid] = "rejected"

    def counts(self) -> OutboxCounts:
        tally = Counter(self.state.values())
        return OutboxCounts(tally["pending"], tally["synced"], tally["rejected"], None)


@dataclass
class FleetRun:
    """What the generator saw: (kind, seconds) per request, errors by catalogue key, the outboxes."""
    latencies: list[tuple[str, float]] = field(default_factory=list)
    errors: Counter = field(default_factory=Counter)
    outboxes: dict[tuple[str, str], MemoryOutbox] = field(default_factory=dict)
    first_sent: float = float("inf")
    last_answered: float = 0.0
    attempts: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, kind: str, started: float, ended: float) -> None:
        with self.lock:
            self.latencies.append((kind, ended - started))
            self.first_sent = min(self.first_sent, started)
            self.last_answered = max(self.last_answered, ended)


class _TimedApi:
    """The client as SyncService sees it, timing each upload (retries included)."""

    def __init__(self, api: KioskRecorderClient, run: FleetRun):
        self.api, self.run = api, run

    def upload_punches(self, punches: list[Punch], situation=None) -> list:
        started = time.perf_counter()
        try:
            return self.api.upload_punches(punches)
        except KioskError as exc:
            with self.run.lock:
                self.run.errors[exc.key] += 1
            raise
        finally:
            self.run.record("punches", started, time.perf_counter())


def backlog(plan: KioskPlan, punches: int, master_version: int | None, base: datetime) -> list[Punch]:
    """``punches`` valid offline punches over the kiosk's employees: clock-in/out pairs 5 minutes apart per
    employee (beyond any re-authentication interval), all in the past."""
    count = len(plan.employee_keys)
    return [Punch(employee_key=plan.employee_keys[i % count],
                  kind=PunchKind.CLOCK_IN if (i // count) % 2 == 0 else PunchKind.CLOCK_OUT,
                  stamped_at=base + timedelta(minutes=5 * (i // count), seconds=i % count),
                  time_source=TimeSource.NTP, offline=True, auth_method=AuthMethod.CARD,
                  recorder_code=plan.recorder, master_version=master_version)
            for i in range(punches)]


def _data_update(client: KioskRecorderClient, run: FleetRun) -> int | None:
    started = time.perf_counter()
    try:
        return client.master_data().version
    except KioskError as exc:
        with run.lock:
            run.errors[exc.key] += 1
        return None
    finally:
        run.record("master", started, time.perf_counter())


def run_kiosk(plan: KioskPlan, ca_file: str, start_at: float, punches: int, batch_size: int, run: FleetRun,
              base: datetime) -> None:
    time.sleep(max(0.0, start_at - time.perf_counter()))
    client = Provisioning.from_text(plan.provisioning_text).client(ca_file=ca_file, timeout=(10.0, 60.0),
                                                                   retry=LOAD_RETRY)
    try:
        version = _data_update(client, run)
        outbox = MemoryOutbox(backlog(plan, punches, version, base))
        with run.lock:
            run.outboxes[(plan.company, plan.recorder)] = outbox
        sync = SyncService(outbox, lambda: _TimedApi(client, run), batch_size=batch_size, heartbeat=False,
                           min_backoff=0.5)
        for _ in range(5):                     # the kiosk's worker would try again on its timer
            sync.drain()
            if not outbox.counts().pending:
                break
            time.sleep(1.0)
    finally:
        with run.lock:
            run.attempts += client.attempts
        client.close()


def drive(plans: list[KioskPlan], ca_file: str, *, punches: int, batch_size: int = 500,
          ramp: float = 0.0) -> FleetRun:
    """Run every kiosk (one thread each) to the end; the stamps are from two days ago (any hour of the day)."""
    run = FleetRun()
    base = (datetime.now(timezone.utc) - timedelta(days=2)).replace(microsecond=0)
    t0 = time.perf_counter() + 0.5
    threads = [threading.Thread(target=run_kiosk, name=f"kiosk-{i}", daemon=True,
                                args=(plan, ca_file, t0 + i * ramp / max(len(plans), 1), punches, batch_size,
                                      run, base))
               for i, plan in enumerate(plans)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return run


@dataclass(frozen=True)
class DatabaseCount:
    sent: int
    acknowledged: int
    stored: int
    lost: int
    duplicated: int
    unacknowledged: int
    mismatched: int            # acknowledged as accepted/rejected but stored with the other status
    stored_statuses: dict


def count_in_database(run: FleetRun) -> DatabaseCount:
    """Read the server's punch rows of the fleet's companies (the models bound to the server's database)."""
    codes = {company for company, _ in run.outboxes}
    rows = (StoredPunch.select(Company.code, StoredPunch.uuid, StoredPunch.status).join(Company)
            .where(Company.code.in_(list(codes))).tuples())
    stored: Counter = Counter()
    status: dict[tuple[str, str], str] = {}
    for code, uuid, row_status in rows:
        stored[(code, uuid)] += 1
        status[(code, uuid)] = row_status
    sent = acknowledged = lost = unacknowledged = mismatched = 0
    for (company, _recorder), outbox in run.outboxes.items():
        for uuid, state in outbox.state.items():
            sent += 1
            if state == "pending":
                unacknowledged += 1
                continue
            acknowledged += 1
            if (company, uuid) not in stored:
                lost += 1
            elif (state == "synced") != (status[(company, uuid)] == "accepted"):
                mismatched += 1
    duplicated = sum(n - 1 for n in stored.values() if n > 1)
    return DatabaseCount(sent, acknowledged, sum(stored.values()), lost, duplicated, unacknowledged, mismatched,
                         dict(Counter(status.values())))
