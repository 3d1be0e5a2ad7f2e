"""Outbox queries on the punch ledger: what the sync worker reads and marks.

A punch leaves ``pending`` only when the server acknowledged it: ``synced`` (the server's record holds it
as accepted) or ``rejected`` (the server keeps it as rejected; ``last_error`` holds the catalogue key, for
HR). A failed attempt only counts (``sync_attempts``) and notes the error. Each batch is marked in one
transaction. Plain SQL through peewee's connection, like the punch path (it is the hot loop of a drain).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from kiosk.adapters.ledger.db import LedgerDatabase, translated
from kiosk.adapters.ledger.punch_store import _to_punch, from_utc_text, to_utc_text
from kiosk.adapters.ledger.models import PunchRow
from dakoku_core.domain.model import Correction, Punch
from dakoku_core.errors import Situation

PENDING, SYNCED, REJECTED = "pending", "synced", "rejected"


@dataclass(frozen=True)
class OutboxCounts:
    pending: int
    synced: int
    rejected: int
    oldest_pending_at: datetime | None   # when the oldest unsent punch was stamped (UTC)


class SqliteOutbox:
    def __init__(self, ledger: LedgerDatabase):
        self._ledger = ledger

    @translated
    def pending_batch(self, limit: int = 500) -> list[Punch | Correction]:
        """The oldest pending punches in the order they were made (``seq``, not a clock), at most ``limit``;
        a correction (取り消し) comes after the punch it cancels."""
        rows = PunchRow.select().where(PunchRow.sync_state == PENDING).order_by(PunchRow.seq).limit(limit)
        return [_to_punch(r) for r in rows]

    def mark(self, *, synced: list[str] = (), rejected: list[tuple[str, str]] = (),
             failed: list[str] = (), error: str = "") -> None:
        """Record one batch's outcome in one transaction: synced uuids, (uuid, error key) rejected, and
        uuids whose attempt failed (``error`` noted, still pending). Only pending rows change."""
        now = to_utc_text(datetime.now(timezone.utc))
        with self._ledger.writing(Situation.PUNCH):
            cursor = self._ledger.db.cursor()
            if synced:
                cursor.executemany(
                    "UPDATE punch SET sync_state = 'synced', synced_at_utc = ?, sync_attempts = sync_attempts + 1, "
                    "last_error = '' WHERE uuid = ? AND sync_state = 'pending'", [(now, u) for u in synced])
            if rejected:
                cursor.executemany(
                    "UPDATE punch SET sync_state = 'rejected', synced_at_utc = ?, sync_attempts = sync_attempts + 1, "
                    "last_error = ? WHERE uuid = ? AND sync_state = 'pending'",
                    [(now, key, u) for u, key in rejected])
            if failed:
                cursor.executemany(
                    "UPDATE punch SET sync_attempts = sync_attempts + 1, last_error = ? "
                    "WHERE uuid = ? AND sync_state = 'pending'", [(error[:200], u) for u in failed])

    def checkpoint(self) -> None:
        """After a drain: fold the WAL back so it does not hold disk space (a failure here is harmless)."""
        try:
            self._ledger.checkpoint()
        except Exception:  # noqa: BLE001 - busy readers or a full disk: the next one catches up
            pass

    def mark_attempt_failed(self, uuids: list[str], error: str) -> None:
        self.mark(failed=uuids, error=error)

    @translated
    def counts(self) -> OutboxCounts:
        rows = self._ledger.db.execute_sql(
            "SELECT sync_state, COUNT(*), MIN(stamped_at_utc) FROM punch GROUP BY sync_state").fetchall()
        by_state = {state: (count, oldest) for state, count, oldest in rows}
        pending, oldest = by_state.get(PENDING, (0, None))
        return OutboxCounts(pending=pending, synced=by_state.get(SYNCED, (0, None))[0],
                            rejected=by_state.get(REJECTED, (0, None))[0],
                            oldest_pending_at=from_utc_text(oldest) if oldest else None)

    @translated
    def state_of(self, uuid: str) -> tuple[str, int, str] | None:
        """(sync_state, sync_attempts, last_error) of one punch, for diagnosis and tests."""
        row = self._ledger.db.execute_sql(
            "SELECT sync_state, sync_attempts, last_error FROM punch WHERE uuid = ?", (uuid,)).fetchone()
        return tuple(row) if row else None
