"""The audit log of manager actions at the kiosk (settings opened, data updated, credentials changed...)."""
from __future__ import annotations

from datetime import datetime, timezone

from kiosk.adapters.ledger.db import LedgerDatabase, translated
from kiosk.adapters.ledger.punch_store import from_utc_text, to_utc_text
from dakoku_core.errors import Situation


class SqliteAuditLog:
    def __init__(self, ledger: LedgerDatabase):
        self._ledger = ledger

    def record(self, action: str, outcome: str, detail: str = "") -> None:
        with self._ledger.writing(Situation.STARTUP):
            self._ledger.db.execute_sql(
                "INSERT INTO audit_log (at_utc, action, outcome, detail) VALUES (?, ?, ?, ?)",
                (to_utc_text(datetime.now(timezone.utc)), action, outcome, detail))

    @translated
    def recent(self, limit: int = 50) -> list[tuple[datetime, str, str, str]]:
        rows = self._ledger.db.execute_sql(
            "SELECT at_utc, action, outcome, detail FROM audit_log ORDER BY id DESC LIMIT ?", (limit,))
        return [(from_utc_text(at), action, outcome, detail) for at, action, outcome, detail in rows]
