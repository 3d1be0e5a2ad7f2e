"""What the standby screen's status line and history show, and 設定 › 情報's list of refused punches,
gathered in one place off the UI thread."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Callable

from dakoku_core.domain.model import Correction, Punch
from dakoku_core.errors import KioskError
from dakoku_core.i18n import tr
from kiosk.ports import MasterData


@dataclass(frozen=True)
class RefusedPunch:
    """A punch the kiosk confirmed and the server refused at sync (kept for HR review, never dropped)."""

    punch: Punch
    name: str           # the employee's name as the kiosk knows it (the key if no longer known)
    error_key: str      # the catalogue key the server gave as its reason
    cancel: bool = False   # a refused 取り消し of ``punch`` (kiosk.services.undo): the punch was not cancelled

    def mark(self) -> str:
        """「取消」 after the punch type when it is the correction that was refused, else ""."""
        return f" {tr('undo.mark')}" if self.cancel else ""

    def reason(self, language: str | None = None) -> str:
        """The catalogue message of the reason (the key itself if this kiosk's catalogue lacks it)."""
        try:
            return KioskError(self.error_key).message(language)
        except ValueError:
            return self.error_key


@dataclass(frozen=True)
class KioskStatus:
    online: bool
    unsent: int
    oldest_unsent: datetime | None
    recent: list[tuple[Punch, str]]   # (punch, employee name) newest first: 打刻履歴
    refused: int = 0                  # 送信エラー: punches the server refused at sync


class StatusService:
    def __init__(self, punches, master: MasterData, is_online: Callable[[], bool] = lambda: False):
        self._punches = punches
        self._master = master
        self._is_online = is_online

    def snapshot(self, history: int) -> KioskStatus:
        unsent, oldest = self._punches.pending_summary()
        refused, _ = self._punches.refused_summary(0)
        recent = self._punches.recent_punches(history) if history else []
        names = [(punch, self._name(punch.employee_key)) for punch in recent]
        return KioskStatus(self._is_online(), unsent, oldest, names, refused)

    def refused_punches(self, limit: int = 50) -> list[RefusedPunch]:
        """The newest ``limit`` refused punches, with their reasons (設定 › 情報)."""
        _, rows = self._punches.refused_summary(limit)
        return [self._refused(entry, key) for entry, key in rows]

    def _refused(self, entry: Punch | Correction, key: str) -> RefusedPunch:
        if isinstance(entry, Correction):    # the punch it named (always in the ledger: cancelled from it)
            punch = self._punches.get(entry.cancels)
            if isinstance(punch, Punch):
                return RefusedPunch(punch, self._name(punch.employee_key), key, cancel=True)
        return RefusedPunch(entry, self._name(entry.employee_key), key)

    def _name(self, employee_key: str) -> str:
        employee = self._master.employee(employee_key)
        return employee.display_name if employee else employee_key
