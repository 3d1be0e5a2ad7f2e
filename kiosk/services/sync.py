"""The outbox worker: uploads pending punches in batches on a background thread (no Kivy).

A punch leaves ``pending`` only when the server acknowledged it: accepted → ``synced``; rejected → kept as
``rejected`` with the catalogue key (for HR); a duplicate (the server had it already: an earlier answer
was lost) takes the state of the server's record. Exactly-once into the server's record rests on the punch
UUID: the server stores a UUID once, so re-sending after any failure is safe.

The worker wakes when a punch is recorded (:meth:`notify`) and on a timer; with nothing to send it asks the
server's time instead (a heartbeat), so online/offline is known before the first punch. After a failure it backs off
(exponential with jitter, capped at the timer interval) and reports offline; a punch recorded meanwhile
does not shorten the backoff. Uploads go in the order the punches were made (the ledger's sequence, never a
clock). A refusal for clock skew (認証に失敗しました B from the server) calls ``on_clock_skew`` (the time sync
re-measures at once). Status changes go to ``on_change`` subscribers (called on the worker thread:
the UI subscribes through its bridge).
"""
from __future__ import annotations

import logging
import random
import threading
import time
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Callable

from dakoku_core.domain.model import Punch
from dakoku_core.errors import KioskError, unexpected
from kiosk.ports import Outbox
from kiosk.ports.recorder_api import ClientProvider, PunchOutcome

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SyncStatus:
    online: bool | None = None           # None: not known yet (no exchange with the server so far)
    pending: int = 0
    oldest_pending_at: datetime | None = None
    rejected: int = 0
    last_error: KioskError | None = None
    last_success_monotonic: float | None = None
    configured: bool = True              # False: no connection settings yet (nothing to sync with)


@dataclass(frozen=True)
class BatchResult:
    synced: int = 0
    rejected: int = 0
    unanswered: int = 0


def classify(batch: list[Punch], outcomes: list[PunchOutcome]) -> tuple[list[str], list[tuple[str, str]], list[str]]:
    """(synced uuids, (uuid, key) rejected, unanswered uuids) of one batch and the server's answers."""
    by_uuid = {o.uuid: o for o in outcomes}
    synced, rejected, unanswered = [], [], []
    for punch in batch:
        outcome = by_uuid.get(punch.uuid.lower())
        if outcome is None:
            unanswered.append(punch.uuid)
        elif outcome.recorded == "rejected":
            rejected.append((punch.uuid, outcome.error_key or "unexpected"))
        else:
            synced.append(punch.uuid)
    return synced, rejected, unanswered


class SyncService:
    def __init__(self, outbox: Outbox, client: ClientProvider, *, batch_size: int = 500,
                 interval: float = 60.0, min_backoff: float = 1.0, heartbeat: bool = True,
                 rng: random.Random | None = None,
                 monotonic: Callable[[], float] = time.monotonic):
        if not 1 <= batch_size <= 500:
            raise ValueError("batch_size must be 1..500 (the server's limit)")
        self._outbox = outbox
        self._client = client
        self.batch_size = batch_size
        self.interval = interval
        self.min_backoff = min_backoff
        self.heartbeat = heartbeat          # with nothing to send, check the server on each timer tick
        self.last_drain_batches = -1
        self._rng = rng or random.Random()
        self._monotonic = monotonic
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._drain_lock = threading.Lock()
        self._status_lock = threading.Lock()
        self._status = SyncStatus()
        self._failures = 0
        self._retry_at = 0.0
        self._listeners: list[Callable[[SyncStatus], None]] = []
        self._thread: threading.Thread | None = None
        self._thread_started_drain = False
        self.on_clock_skew: Callable[[], None] = lambda: None   # the server refused our time: re-measure it

    # -- public --------------------------------------------------------------------------------------
    def subscribe(self, listener: Callable[[SyncStatus], None]) -> Callable[[], None]:
        """Call ``listener(status)`` after every change (on the worker thread); returns an unsubscribe."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    on_change = subscribe

    @property
    def status(self) -> SyncStatus:
        with self._status_lock:
            return self._status

    def is_online(self) -> bool:
        """For PunchService: True only when the last exchange with the server succeeded."""
        return self.status.online is True

    def notify(self) -> None:
        """A punch was recorded: upload soon (at once when online)."""
        self._wake.set()

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stopping.clear()
        self._thread_started_drain = False     # the first drain runs at once
        self._thread = threading.Thread(target=self._run, name="kiosk-sync", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Stop the worker; a batch in flight finishes (its answer is recorded) before the thread ends."""
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def drain(self, max_batches: int | None = None) -> SyncStatus:
        """Upload until nothing is pending or a batch fails (blocking; the worker calls it, so can tests)."""
        with self._drain_lock:
            self._refresh_counts()
            done = 0
            while not self._stopping.is_set() and (max_batches is None or done < max_batches):
                batch = self._outbox.pending_batch(self.batch_size)
                if not batch:
                    break
                if not self._send(batch):
                    break
                done += 1
            self.last_drain_batches = done
            if done and hasattr(self._outbox, "checkpoint"):
                self._outbox.checkpoint()       # the WAL gives its disk space back after a drain
            return self._refresh_counts()

    def probe(self) -> bool:
        """Nothing to send: ask the server's time (cheap, no nonce) so online/offline stays true."""
        client = self._client()
        if client is None:
            self._set(configured=False, online=None)
            return False
        try:
            client.server_time()
        except KioskError as exc:
            self._failed(exc)
            return False
        self._succeeded()
        return True

    # -- the worker ------------------------------------------------------------------------------------
    def _run(self) -> None:
        while not self._stopping.is_set():
            if self._failures:
                remaining = self._retry_at - self._monotonic()
                if remaining > 0:           # backing off: a punch recorded meanwhile does not shorten it
                    self._stopping.wait(remaining)
                    continue
            elif self._thread_started_drain:
                self._wake.wait(timeout=self.interval)
            self._thread_started_drain = True
            if self._stopping.is_set():
                break
            self._wake.clear()
            try:
                self.last_drain_batches = -1
                self.drain()
                if self.last_drain_batches == 0 and self._failures == 0 and self.heartbeat:
                    self.probe()
            except Exception as exc:  # noqa: BLE001 - the worker must survive anything
                log.exception("sync worker: unexpected failure")
                self._failed(exc if isinstance(exc, KioskError) else unexpected(exc))

    def _send(self, batch: list[Punch]) -> bool:
        client = self._client()
        if client is None:
            self._set(configured=False, online=None)
            return False
        uuids = [p.uuid for p in batch]
        try:
            outcomes = client.upload_punches(batch)
        except KioskError as exc:
            self._outbox.mark(failed=uuids, error=exc.key)
            self._failed(exc)
            return False
        synced, rejected, unanswered = classify(batch, outcomes)
        self._outbox.mark(synced=synced, rejected=rejected, failed=unanswered, error="server_error")
        if unanswered:
            self._failed(KioskError("server_error", detail=f"{len(unanswered)} punches without an answer"))
            return False
        self._succeeded()
        return True

    def _succeeded(self) -> None:
        self._failures, self._retry_at = 0, 0.0
        self._set(online=True, configured=True, last_error=None, last_success_monotonic=self._monotonic())

    def _failed(self, error: KioskError) -> None:
        self._failures += 1
        cap = max(self.min_backoff, self.interval)
        ceiling = min(cap, self.min_backoff * 2 ** min(self._failures - 1, 16))
        self._retry_at = self._monotonic() + self._rng.uniform(self.min_backoff / 2, ceiling)
        log.info("sync failed (%s); next try in %.1fs", error, self._retry_at - self._monotonic())
        if error.key == "auth_failed" and error.cause_letter == "B":
            self.on_clock_skew()
        self._set(online=False, last_error=error)

    def _refresh_counts(self) -> SyncStatus:
        counts = self._outbox.counts()
        return self._set(pending=counts.pending, oldest_pending_at=counts.oldest_pending_at,
                         rejected=counts.rejected)

    def _set(self, **changes) -> SyncStatus:
        with self._status_lock:
            new = replace(self._status, **changes)
            changed, self._status = new != self._status, new
        if changed:
            for listener in list(self._listeners):
                try:
                    listener(new)
                except Exception:  # noqa: BLE001 - a listener must not stop the worker
                    log.exception("sync status listener failed")
        return new
