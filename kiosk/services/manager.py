"""The manager gate: 設定 and registration need the manager's PIN; every attempt is audit-logged.

Five wrong PINs in a row lock the gate for a minute (a kiosk stands in a corridor)."""
from __future__ import annotations

import threading
import time
from typing import Callable

from dakoku_core.domain.passwords import verify_password
from dakoku_core.errors import KioskError, Situation
from kiosk.ports import AuditLog

MAX_FAILURES = 5
LOCKOUT_SECONDS = 60.0


class ManagerGate:
    def __init__(self, pin_hash: str, audit: AuditLog, monotonic: Callable[[], float] = time.monotonic):
        self._pin_hash = pin_hash
        self._audit = audit
        self._now = monotonic
        self._lock = threading.Lock()
        self._failures = 0
        self._locked_until = 0.0

    @property
    def configured(self) -> bool:
        return bool(self._pin_hash)

    def authenticate(self, pin: str, action: str) -> None:
        """Let the manager in for ``action`` or raise the catalogue's password errors."""
        with self._lock:
            if self._now() < self._locked_until:
                self._audit.record(action, "locked_out")
                raise KioskError("manager_locked_out", situation=Situation.REGISTRATION,
                                 context={"seconds": int(self._locked_until - self._now()) + 1})
            if not self._pin_hash:
                raise KioskError("manager_pin_not_set", situation=Situation.REGISTRATION)
            if not pin:
                raise KioskError("password_empty", situation=Situation.REGISTRATION)
            if not verify_password(pin, self._pin_hash):
                self._failures += 1
                if self._failures >= MAX_FAILURES:
                    self._failures, self._locked_until = 0, self._now() + LOCKOUT_SECONDS
                self._audit.record(action, "denied")
                raise KioskError("password_wrong", situation=Situation.REGISTRATION)
            self._failures = 0
        self._audit.record(action, "granted")

    def record(self, action: str, outcome: str, detail: str = "") -> None:
        self._audit.record(action, outcome, detail)

    def recent(self, limit: int = 20) -> list:
        return self._audit.recent(limit)
