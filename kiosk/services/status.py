"""What the standby screen's status line and history show, gathered in one place off the UI thread."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Callable

from kiosk.domain.model import Punch
from kiosk.ports import MasterData


@dataclass(frozen=True)
class KioskStatus:
    online: bool
    unsent: int
    oldest_unsent: datetime | None
    recent: list[tuple[Punch, str]]   # (punch, employee name) newest first: 打刻履歴


class StatusService:
    def __init__(self, punches, master: MasterData, is_online: Callable[[], bool] = lambda: False):
        self._punches = punches
        self._master = master
        self._is_online = is_online

    def snapshot(self, history: int) -> KioskStatus:
        unsent, oldest = self._punches.pending_summary()
        recent = self._punches.recent_punches(history) if history else []
        names = []
        for punch in recent:
            employee = self._master.employee(punch.employee_key)
            names.append((punch, employee.display_name if employee else punch.employee_key))
        return KioskStatus(self._is_online(), unsent, oldest, names)
