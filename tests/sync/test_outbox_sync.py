"""The outbox worker against the real server: exactly-once through faults and a server kill, rejection
kept for HR, online/offline state, notify and a clean stop."""
from __future__ import annotations

import random
import threading
import time

import pytest

from kiosk.adapters.recorder_client import RetryPolicy
from dakoku_core.domain.model import AuthMethod, Punch, PunchKind, TimeSource
from kiosk.services.recorder_api import ClientSlot
from kiosk.services.sync import SyncService

from .conftest import make_punches
from .fault_proxy import FaultProxy
from .harness import free_port

FAULT_WEIGHTS = {"pass": 4, "reset": 3, "stall": 1, "garbage": 1, "refuse": 1, "drip": 1}


class CountingClient:
    """Passes calls through and counts the per-punch statuses the server answered."""

    def __init__(self, inner):
        self.inner = inner
        self.statuses = {"accepted": 0, "duplicate": 0, "rejected": 0}

    def upload_punches(self, punches, situation=None):
        outcomes = self.inner.upload_punches(punches, situation)
        for outcome in outcomes:
            self.statuses[outcome.status] += 1
        return outcomes

    def close(self):
        self.inner.close()


def record_all(ledger, punches) -> None:
    for punch in punches:
        ledger.punches.record(punch)


def wait_until(predicate, timeout: float, step: float = 0.05) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(step)
    return predicate()


@pytest.mark.timeout(150)
def test_exactly_once_through_faults_and_a_server_kill(sync_server, ledger):
    punches = make_punches(sync_server.employee_keys["1001"], 3000, start_days_ago=1000)
    record_all(ledger, punches)
    with FaultProxy(sync_server.process.port, seed=20250601, weights=FAULT_WEIGHTS,
                    reset_range=(500, 12000), pass_budget=(15000, 60000)) as proxy:
        client = CountingClient(sync_server.demo.client(proxy.url, timeout=(2.0, 1.5),
                                retry=RetryPolicy(attempts=3, initial_wait=0.02, max_wait=0.2)))
        sync = SyncService(ledger.outbox, ClientSlot(client), batch_size=100, interval=0.5, min_backoff=0.05,
                           rng=random.Random(7))
        seen = []
        sync.subscribe(lambda status: seen.append(status.online))
        sync.start()
        try:
            assert wait_until(lambda: ledger.outbox.counts().synced >= 1000, 60), ledger.outbox.counts()
            sync_server.process.kill()                 # mid-drain: requests in flight die with it
            time.sleep(0.5)
            sync_server.process.start()
            assert wait_until(lambda: ledger.outbox.counts().pending == 0, 90), ledger.outbox.counts()
        finally:
            sync.stop()
    counts = ledger.outbox.counts()
    assert (counts.pending, counts.synced, counts.rejected) == (0, 3000, 0)
    on_server = sync_server.punch_rows([p.uuid for p in punches])
    assert set(on_server.values()) == {1}, "every punch is in the server's record exactly once"
    assert sum(proxy.counts[m] for m in ("reset", "stall", "garbage", "refuse")) >= 5, proxy.counts
    assert client.statuses["duplicate"] > 0, "some answers were lost after the server had stored the punches"
    assert False in seen and seen[-1] is True                  # went offline on faults, ended online


@pytest.mark.timeout(60)
def test_rejected_punch_is_kept_with_its_key(sync_server, ledger):
    short_timer = sync_server.employee_keys["1004"]          # SHORT: break punching not allowed
    stamped = make_punches(short_timer, 1, start_days_ago=1100)[0].stamped_at
    rejected = Punch(employee_key=short_timer, kind=PunchKind.BREAK_START, stamped_at=stamped,
                     time_source=TimeSource.NTP, offline=True, auth_method=AuthMethod.CARD, recorder_code="R001")
    fine = make_punches(sync_server.employee_keys["1003"], 2, start_days_ago=1100)
    record_all(ledger, [rejected, *fine])
    sync = SyncService(ledger.outbox, ClientSlot(sync_server.demo.client()))
    status = sync.drain()
    assert (status.pending, status.rejected, status.online) == (0, 1, True)
    assert ledger.outbox.state_of(rejected.uuid) == ("rejected", 1, "break_not_allowed")
    assert [ledger.outbox.state_of(p.uuid)[0] for p in fine] == ["synced", "synced"]
    # sent again (e.g. its answer was lost): the server's answer is "duplicate", still rejected
    outcome = sync_server.demo.client().upload_punches([rejected])[0]
    assert (outcome.status, outcome.recorded, outcome.error_key) == ("duplicate", "rejected", "break_not_allowed")


@pytest.mark.timeout(60)
def test_offline_then_back_notify_and_clean_stop(sync_server, ledger):
    punches = make_punches(sync_server.employee_keys["1002"], 20, start_days_ago=1200)
    slot = ClientSlot(sync_server.demo.client(f"https://127.0.0.1:{free_port()}/"))   # nothing listens
    sync = SyncService(ledger.outbox, slot, interval=30.0, min_backoff=0.05)
    changes = []
    sync.subscribe(changes.append)
    record_all(ledger, punches[:10])
    sync.start()
    try:
        assert wait_until(lambda: sync.status.online is False, 10)
        assert sync.status.last_error.code == "004" and not sync.is_online()
        assert ledger.outbox.counts().pending == 10
        assert ledger.outbox.state_of(punches[0].uuid)[2] == "connect_failed"
        slot.set(sync_server.demo.client())             # the network is back (or 接続先変更 swapped the client)
        assert wait_until(lambda: sync.status.online is True and sync.status.pending == 0, 10)
        record_all(ledger, punches[10:])
        started = time.monotonic()
        sync.notify()                                    # online: a recorded punch goes up at once
        assert wait_until(lambda: ledger.outbox.counts().pending == 0, 5)
        assert time.monotonic() - started < 5
    finally:
        sync.stop(timeout=10)
    assert not any(t.name == "kiosk-sync" for t in threading.enumerate())
    assert changes and changes[-1].online is True


@pytest.mark.timeout(30)
def test_not_configured_is_neither_online_nor_an_error(ledger):
    record_all(ledger, make_punches("E1", 2))
    status = SyncService(ledger.outbox, ClientSlot(None)).drain()
    assert (status.configured, status.online, status.pending, status.last_error) == (False, None, 2, None)


@pytest.mark.timeout(30)
def test_heartbeat_says_online_with_an_empty_outbox(sync_server, ledger):
    slot = ClientSlot(sync_server.demo.client())
    sync = SyncService(ledger.outbox, slot, interval=0.2, min_backoff=0.05)
    sync.start()
    try:
        assert wait_until(lambda: sync.is_online(), 5)
        slot.set(sync_server.demo.client(f"https://127.0.0.1:{free_port()}/"))
        assert wait_until(lambda: sync.status.online is False, 5)
        assert sync.status.last_error.code == "004" and sync.status.pending == 0
    finally:
        sync.stop()
