"""Fingerprint templates enrolled at this kiosk, in the ledger file, sealed (AES-256-GCM).

Each row is one sub-template of one finger: employee key, finger (0-9), the department it was enrolled for, the
sealed blob (``TemplateCipher`` with ``TemplateBinding(employee, finger, department)`` as associated data) and
when. Plaintext templates never reach the database; the keys come from a ``KeyProvider`` kept apart from it
(``FileKeyProvider(DATA_DIR/keys)``). Reads give a :class:`Gallery` built once (decrypt + MCC encoding, about
20 ms per template) and kept in memory; a change updates the cached entries and restacks the gallery.
"""
from __future__ import annotations

import logging
import threading
from datetime import datetime, timezone
from typing import Sequence

from kiosk.adapters.ledger.db import LedgerDatabase, translated
from kiosk.adapters.ledger.punch_store import to_utc_text
from kiosk.errors import Situation
from kiosk.fingerprint.crypto import TemplateBinding, TemplateCipher, TemplateSealError
from kiosk.fingerprint.gallery import EnrolledTemplate, Gallery
from kiosk.fingerprint.matcher import Matcher
from kiosk.fingerprint.mcc import CylinderCode
from kiosk.fingerprint.template import FingerprintTemplate

log = logging.getLogger(__name__)
FINGERS = range(10)


class SqliteFingerprintStore:
    """Thread-safe. ``gallery()`` is cached; ``add`` / ``delete`` keep the cache consistent."""

    def __init__(self, ledger: LedgerDatabase, cipher: TemplateCipher, matcher: Matcher | None = None):
        self._ledger = ledger
        self._cipher = cipher
        self._matcher = matcher or Matcher()
        self._lock = threading.Lock()
        self._entries: list[EnrolledTemplate] | None = None
        self._gallery: Gallery | None = None

    # -- reads -------------------------------------------------------------------------------------
    def gallery(self) -> Gallery:
        """Every enrolled template of this kiosk (callers restrict it to the recorder's department)."""
        with self._lock:
            if self._gallery is None:
                if self._entries is None:
                    self._entries = self._load_entries()
                self._gallery = Gallery(self._entries)
            return self._gallery

    @translated
    def fingers_of(self, employee_key: str) -> set[int]:
        rows = self._ledger.db.execute_sql(
            "SELECT DISTINCT finger FROM fingerprint_template WHERE employee_key = ?", (employee_key,))
        return {int(finger) for (finger,) in rows}

    @translated
    def count(self) -> int:
        return self._ledger.db.execute_sql("SELECT COUNT(*) FROM fingerprint_template").fetchone()[0]

    @translated
    def _load_entries(self) -> list[EnrolledTemplate]:
        rows = self._ledger.db.execute_sql(
            "SELECT employee_key, finger, department_code, sealed FROM fingerprint_template ORDER BY id").fetchall()
        entries = []
        for employee_key, finger, department, sealed in rows:
            try:
                template = self._cipher.open(bytes(sealed), TemplateBinding(employee_key, int(finger), department))
            except (TemplateSealError, ValueError) as exc:
                # A moved, tampered or unkeyed row identifies nobody; the rest of the gallery still works.
                log.error("fingerprint template of %s finger %s does not open: %s", employee_key, finger, exc)
                continue
            entries.append(EnrolledTemplate(employee_key, int(finger), self._matcher.encode(template)))
        return entries

    # -- changes -----------------------------------------------------------------------------------
    def add(self, employee_key: str, finger: int, department_code: str, templates: Sequence[FingerprintTemplate],
            codes: Sequence[CylinderCode] | None = None) -> None:
        """Store the sub-templates of one finger, replacing what that finger had."""
        if finger not in FINGERS or not templates:
            raise ValueError("a finger is 0-9 and needs at least one template")
        binding = TemplateBinding(employee_key, int(finger), department_code)
        blobs = [self._cipher.seal(t, binding) for t in templates]
        codes = list(codes) if codes is not None else [self._matcher.encode(t) for t in templates]
        now = to_utc_text(datetime.now(timezone.utc))
        with self._lock:
            with self._ledger.writing(Situation.REGISTRATION):
                self._ledger.db.execute_sql(
                    "DELETE FROM fingerprint_template WHERE employee_key = ? AND finger = ?", (employee_key, finger))
                for blob in blobs:
                    self._ledger.db.execute_sql(
                        "INSERT INTO fingerprint_template (employee_key, finger, department_code, sealed, "
                        "created_at_utc) VALUES (?, ?, ?, ?, ?)", (employee_key, int(finger), department_code, blob, now))
            if self._entries is not None:
                self._entries = [e for e in self._entries if (e.employee_key, e.finger) != (employee_key, finger)]
                self._entries += [EnrolledTemplate(employee_key, int(finger), c) for c in codes]
            self._gallery = None

    def delete(self, employee_key: str, finger: int | None = None) -> int:
        """Remove an employee's finger (or all their fingers); returns the rows removed."""
        with self._lock:
            with self._ledger.writing(Situation.REGISTRATION):
                if finger is None:
                    cursor = self._ledger.db.execute_sql(
                        "DELETE FROM fingerprint_template WHERE employee_key = ?", (employee_key,))
                else:
                    cursor = self._ledger.db.execute_sql(
                        "DELETE FROM fingerprint_template WHERE employee_key = ? AND finger = ?", (employee_key, finger))
            if self._entries is not None:
                self._entries = [e for e in self._entries if e.employee_key != employee_key
                                 or (finger is not None and e.finger != finger)]
            self._gallery = None
            return cursor.rowcount
