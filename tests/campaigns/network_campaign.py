"""Network-fault campaign (issue 10): punches go up through two fault layers to the reference server, which is also
killed and restarted; afterwards each punch is exactly once in the server's database, every failure the outbox
worker met was a catalogue KioskError (counted per code), and while the server was down the kiosk's connection
attempts per second stayed bounded.

    kiosk SyncService → FaultProxy (TCP: refuse, stall, reset mid-body, garbage TLS, drip)
                      → HttpFaultLayer (HTTP: 503, 503 after the work, 429 + Retry-After, truncated, garbage JSON)
                      → kiosk-server serve (TLS, loopback)

Short form: tests/campaigns/test_network_campaign.py (~500 punches); long form: benchmarks/campaign_network.py.
"""
from __future__ import annotations

import random
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

from kiosk.adapters.ledger import SqlitePunchLedger, open_ledger
from kiosk.adapters.ledger.outbox import SqliteOutbox
from kiosk.adapters.recorder_client import RetryPolicy
from dakoku_core.domain.model import AuthMethod, Punch, PunchKind, TimeSource
from dakoku_core.errors import KioskError, catalogue
from kiosk.services.recorder_api import ClientSlot
from kiosk.services.sync import SyncService
from tests.campaigns.http_faults import HttpFaultLayer, Stopwatch
from tests.campaigns.peers import DemoPeer, demo_peer
from tests.sync.fault_proxy import FaultProxy

JST = timezone(timedelta(hours=9))
TCP_WEIGHTS = {"pass": 10, "reset": 1.5, "stall": 0.3, "garbage": 0.7, "refuse": 0.7, "drip": 0.5}
HTTP_WEIGHTS = {"pass": 10, "503": 1, "503_after": 1, "429": 0.4, "truncated": 1, "garbage": 1}
RETRY = RetryPolicy(attempts=3, max_elapsed=6.0, initial_wait=0.05, max_wait=0.5, max_retry_after=2.0)


class TimedFaultProxy(FaultProxy):
    """The fault proxy, noting when each connection arrives (the kiosk's connection attempts)."""

    def __init__(self, *args, attempts: Stopwatch, **kwargs):
        super().__init__(*args, **kwargs)
        self.attempts = attempts

    def _choose(self):
        self.attempts.tick()
        return super()._choose()


class CountingClient:
    """The real client; every failure the worker receives is counted by catalogue code, and answers by status."""

    def __init__(self, inner):
        self.inner = inner
        self.failures: Counter = Counter()
        self.not_catalogued: list[str] = []
        self.statuses: Counter = Counter()

    def upload_punches(self, punches, situation=None):
        try:
            outcomes = self.inner.upload_punches(punches, situation)
        except KioskError as exc:
            self.failures[f"{exc.code or '-'} {exc.key}"] += 1
            if exc.key not in catalogue() or exc.key == "unexpected":
                self.not_catalogued.append(str(exc))
            raise
        self.statuses.update(o.status for o in outcomes)
        return outcomes

    def server_time(self, situation=None):
        return self.inner.server_time(situation)

    def close(self):
        self.inner.close()


@dataclass
class Figures:
    punches: int = 0
    batches_sent: int = 0
    requests_sent: int = 0
    failures_by_code: Counter = field(default_factory=Counter)
    not_catalogued: list = field(default_factory=list)
    statuses: Counter = field(default_factory=Counter)
    tcp_faults: dict = field(default_factory=dict)
    http_faults: dict = field(default_factory=dict)
    restarts: int = 0
    down_seconds: float = 0.0
    down_attempts_per_second: list = field(default_factory=list)
    synced: int = 0
    pending: int = 0
    rejected: int = 0
    at_server_exactly_once: int = 0
    at_server_missing: int = 0
    at_server_duplicated: int = 0
    seconds: float = 0.0

    @property
    def max_down_rate(self) -> int:
        return max(self.down_attempts_per_second, default=0)

    def lines(self) -> list[str]:
        return [f"network_punches: {self.punches}", f"network_requests_sent: {self.requests_sent}",
                f"network_tcp_faults: {self.tcp_faults}", f"network_http_faults: {self.http_faults}",
                f"network_failures_by_code: {dict(sorted(self.failures_by_code.items()))}",
                f"network_failures_not_catalogued: {len(self.not_catalogued)}",
                f"network_answers: {dict(self.statuses)}",
                f"network_server_restarts: {self.restarts} ({self.down_seconds:.1f} s down in all)",
                f"network_attempts_per_second_while_down: max {self.max_down_rate}, "
                f"mean {sum(self.down_attempts_per_second) / max(1, len(self.down_attempts_per_second)):.2f}",
                f"network_ledger: synced {self.synced}, pending {self.pending}, rejected {self.rejected}",
                f"network_at_server_exactly_once: {self.at_server_exactly_once}",
                f"network_at_server_missing: {self.at_server_missing}",
                f"network_at_server_duplicated: {self.at_server_duplicated}", f"network_seconds: {self.seconds:.1f} s"]


def make_punches(keys: list[str], count: int, start: datetime) -> list[Punch]:
    """``count`` offline punches, the employees taking turns one minute apart (clear of the 60 s re-authentication
    interval), clock-in and clock-out alternating per employee."""
    return [Punch(employee_key=keys[i % len(keys)],
                  kind=PunchKind.CLOCK_IN if (i // len(keys)) % 2 == 0 else PunchKind.CLOCK_OUT,
                  stamped_at=start + timedelta(minutes=i), time_source=TimeSource.NTP, offline=True,
                  auth_method=AuthMethod.CARD, recorder_code="R001")
            for i in range(count)]


class Campaign:
    def __init__(self, work: Path, punches: int, restarts: int, seed: int, batch: int, down_for: float):
        self.work, self.total, self.restarts, self.batch, self.down_for = work, punches, restarts, batch, down_for
        self.seed = seed
        self.figures = Figures(punches=punches)
        self.uuids: list[str] = []

    def run(self, peer: DemoPeer, log=print) -> Figures:
        started = time.monotonic()
        attempts = Stopwatch()
        http = HttpFaultLayer(peer.process.url, peer.process.tls_dir, self.work, weights=HTTP_WEIGHTS, seed=self.seed)
        proxy = TimedFaultProxy(http.port, seed=self.seed, weights=TCP_WEIGHTS, reset_range=(200, 6000),
                                pass_budget=None, attempts=attempts).start()
        ledger = open_ledger(self.work / "kiosk" / "ledger.sqlite3")
        client = CountingClient(peer.provisioning.client(proxy.url, retry=RETRY, timeout=(1.0, 1.5)))
        outbox = SqliteOutbox(ledger)
        sync = SyncService(outbox, ClientSlot(client), batch_size=self.batch, interval=1.0, min_backoff=0.05,
                           heartbeat=False, rng=random.Random(self.seed))
        sync.start()
        try:
            self.feed_and_restart(peer, ledger, outbox, sync, attempts, log)
            deadline = time.monotonic() + 120 + self.total / 50
            while outbox.counts().pending and time.monotonic() < deadline:
                time.sleep(0.2)
        finally:
            sync.stop()
            proxy.stop()
            http.close()
            counts = outbox.counts()
            ledger.close()
        self.finish(peer, client, proxy, http, counts, started)
        return self.figures

    def feed_and_restart(self, peer, ledger, outbox, sync, attempts, log) -> None:
        """Record the punches in waves (as a shop floor would) and kill the server between waves."""
        keys = [peer.employee_key(code) for code in ("1001", "1002", "1003")]
        start = (datetime.now(JST) - timedelta(days=40)).replace(hour=0, minute=0, second=0, microsecond=0)
        rows = make_punches(keys, self.total, start)
        self.uuids = [p.uuid for p in rows]
        record = SqlitePunchLedger(ledger).record       # each punch committed as the punch path does
        waves = max(1, self.restarts + 1)
        size = -(-len(rows) // waves)
        for w in range(waves):
            for punch in rows[w * size:(w + 1) * size]:
                record(punch)
                sync.notify()
            target = min(len(rows), (w + 1) * size) - size // 2
            deadline = time.monotonic() + 60 + size / 20
            while outbox.counts().synced < target and time.monotonic() < deadline:
                time.sleep(0.1)
            if w < self.restarts:
                self.server_down(peer, attempts)
                if log:
                    log(f"... wave {w + 1}/{waves}: restart {w + 1}, {outbox.counts().synced} synced")

    def server_down(self, peer: DemoPeer, attempts: Stopwatch) -> None:
        """SIGKILL mid-drain, stay down ``down_for`` seconds counting the kiosk's connection attempts, restart."""
        peer.process.kill()
        went_down = time.monotonic()
        time.sleep(self.down_for)
        self.figures.down_attempts_per_second += attempts.per_second(went_down + 1.0, went_down + self.down_for)
        peer.process.start()
        self.figures.down_seconds += time.monotonic() - went_down
        self.figures.restarts += 1

    def finish(self, peer, client, proxy, http, counts, started) -> None:
        f = self.figures
        f.requests_sent = client.inner.attempts
        f.failures_by_code, f.not_catalogued, f.statuses = client.failures, client.not_catalogued, client.statuses
        f.tcp_faults = {k: v for k, v in proxy.counts.items() if v}
        f.http_faults = dict(http.counts)
        f.synced, f.pending, f.rejected = counts.synced, counts.pending, counts.rejected
        on_server = peer.punch_rows(self.uuids)
        f.at_server_exactly_once = sum(1 for c in on_server.values() if c == 1)
        f.at_server_missing = sum(1 for c in on_server.values() if c == 0)
        f.at_server_duplicated = sum(1 for c in on_server.values() if c > 1)
        f.seconds = time.monotonic() - started


def run_campaign(work: Path, punches: int, *, restarts: int = 1, seed: int = 20261202, batch: int = 50,
                 down_for: float = 6.0, log=print) -> Figures:
    peer = demo_peer(work / "server")
    peer.process.start()
    try:
        return Campaign(work, punches, restarts, seed, batch, down_for).run(peer, log)
    finally:
        peer.process.stop()
