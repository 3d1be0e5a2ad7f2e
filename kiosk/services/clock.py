"""The kiosk's time: the machine clock corrected by an offset from the best source available.

NTP first, then the server's clock, then the local clock (the sources are wired by the sync work); the
offset applies to the displayed clock and to every punch. While an offset is being adjusted, punches are
refused (catalogue: 認証に失敗しました, cause B)."""
from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta, tzinfo
from typing import Callable

from kiosk.domain.model import ClockReading, TimeSource


class KioskClock:
    def __init__(self, tz: tzinfo, now: Callable[[], float] = time.time):
        self._tz = tz
        self._now = now
        self._lock = threading.Lock()
        self._offset = 0.0
        self._source = TimeSource.LOCAL
        self._adjusting = False

    def read(self) -> ClockReading:
        with self._lock:
            offset, source, adjusting = self._offset, self._source, self._adjusting
        return ClockReading(datetime.fromtimestamp(self._now() + offset, self._tz), source, adjusting)

    def begin_adjustment(self) -> None:
        with self._lock:
            self._adjusting = True

    def apply(self, offset_seconds: float, source: TimeSource) -> None:
        """Set a new offset (seconds to add to the machine clock) and end any adjustment."""
        with self._lock:
            self._offset, self._source, self._adjusting = offset_seconds, source, False

    def end_adjustment(self) -> None:
        with self._lock:
            self._adjusting = False

    @property
    def offset(self) -> timedelta:
        with self._lock:
            return timedelta(seconds=self._offset)
