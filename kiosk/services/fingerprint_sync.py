"""Fingerprints in データ更新: after the master data, pull the fingers of this recorder's scope and drop those of
employees who are no longer its candidates (no Kivy).

The server answers ``GET /v1/fingerprints?since=N`` with ``If-None-Match`` (304 when unchanged). The kiosk asks
``since`` the version it holds, but never beyond the master data it holds: the server's scope (the department's
employees and help registrations) may be newer than the kiosk's master data, and a finger pruned because the
kiosk did not know its employee yet must come again once it does. So when the fingerprint answer is newer than
the master data, the master version is remembered (and no ETag), and the next pull over-sends a little.
A recorder other than the one the held version was pulled for (接続先変更) starts again with a full pull.

Pruning uses :meth:`FingerprintService.candidates` (own department plus help registrations, from the master
data) and runs after every pull, also after a 304: a help registration that went away changes the master data
only.
"""
from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import Callable

from dakoku_core.domain.model import Recorder
from dakoku_core.errors import KioskError, Situation, unexpected
from kiosk.ports import MasterData
from kiosk.ports import FingerprintSyncStore
from kiosk.ports.recorder_api import ClientProvider, FingerprintSnapshot, FingerprintVersion

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FingerprintPullResult:
    changed: bool                  # False: 304, or nothing to pull with (no connection or recorder yet)
    version: int | None            # the version remembered
    full: bool = False
    counts: object = None          # the store's ApplyCounts (written, removed, unchanged)
    pruned: int = 0                # employees whose fingers were dropped as out of scope


class FingerprintSync:
    """A データ更新 follow-up step (``DataUpdateService.add_follow_up``). Thread-safe: one pull at a time."""

    def __init__(self, store: FingerprintSyncStore, client: ClientProvider, master: MasterData,
                 candidates: Callable[[str], list[str]], master_version: Callable[[], int | None]):
        self._store, self._client, self._master = store, client, master
        self._candidates, self._master_version = candidates, master_version
        self._lock = threading.Lock()

    def pull(self, situation: Situation = Situation.DATA_UPDATE) -> FingerprintPullResult:
        """Raises KioskError (004-012, 999 like the master data); the templates held stay as they were."""
        client, recorder = self._client(), self._master.recorder()
        if client is None or recorder is None:
            return FingerprintPullResult(False, None)
        with self._lock:
            try:
                return self._pull(client, recorder, situation)
            except KioskError:
                raise
            except Exception as exc:  # noqa: BLE001 - the edge of the step: a catalogue error, never a crash
                log.exception("fingerprint pull failed unexpectedly")
                raise unexpected(exc, situation) from exc

    __call__ = pull

    def _pull(self, client, recorder: Recorder, situation: Situation) -> FingerprintPullResult:
        scope = f"{recorder.company_code}/{recorder.code}"
        held = self._store.held_version()
        since, etag = (held.version, held.etag) if held.scope == scope else (None, None)
        snapshot = client.fingerprints(since=since, etag=etag, situation=situation)
        counts, version = None, held.version
        if snapshot is not None:
            remembered = self._remembered(snapshot, scope)
            counts = self._store.apply_snapshot(snapshot, remembered, self._department_of(recorder))
            version = remembered.version
            log.info("fingerprints: version %s (%s), %s", snapshot.version, "full" if snapshot.full else "changes",
                     counts)
        pruned = self._store.prune(self._candidates(recorder.department_code))
        if pruned:
            log.info("fingerprints: dropped the fingers of %d employees no longer in this recorder's scope", pruned)
        return FingerprintPullResult(snapshot is not None, version, bool(snapshot and snapshot.full), counts, pruned)

    def _remembered(self, snapshot: FingerprintSnapshot, scope: str) -> FingerprintVersion:
        master = self._master_version()
        if master is not None and snapshot.version > master:
            return FingerprintVersion(master, None, scope)
        return FingerprintVersion(snapshot.version, snapshot.etag or None, scope)

    def _department_of(self, recorder: Recorder) -> Callable[[str], str]:
        """The department a received finger is sealed for (the binding): the employee's own."""
        def department(employee_key: str) -> str:
            employee = self._master.employee(employee_key)
            return employee.department_code if employee is not None else recorder.department_code
        return department
