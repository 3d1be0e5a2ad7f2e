"""The kiosk's time: the true time as last measured (NTP, then the server), carried forward on the monotonic
clock; the machine's wall clock only when no fresh measurement exists.

A measurement is kept as an *anchor*: the true Unix time at one instant of the boot clock (CLOCK_BOOTTIME:
monotonic, and it keeps counting while the machine sleeps). Until the anchor expires the kiosk's time is
``anchor time + boot-clock seconds since``, so a jump of the machine clock (someone sets it, a bad RTC after
a power cut) does not move the stamps, the signatures or the display. An expired anchor is dropped: the
reading falls back to the machine clock, labelled ``local`` (never the source of an old measurement).

:meth:`KioskClock.jumped` compares the machine clock with the boot clock; the time sync calls it on a tick
and re-measures at once after a jump. While the time sync confirms a measurement that would *step* the
kiosk's time, :meth:`begin_adjustment` .. :meth:`apply` mark the reading ``adjusting``: punches are refused
then (catalogue: 認証に失敗しました, cause B).
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from typing import Callable

from dakoku_core.domain.model import ClockReading, TimeSource

DEFAULT_FRESH_FOR = 3 * 3600.0   # seconds an anchor stays valid without a new measurement
JUMP_THRESHOLD = 2.0             # seconds the machine clock may move against the boot clock between two ticks


def boot_clock() -> float:
    """Seconds since boot, suspend included where the OS offers it (Linux CLOCK_BOOTTIME)."""
    if hasattr(time, "CLOCK_BOOTTIME"):
        return time.clock_gettime(time.CLOCK_BOOTTIME)
    return time.monotonic()


@dataclass(frozen=True)
class Anchor:
    epoch: float          # true Unix time ...
    at: float             # ... at this boot-clock reading
    source: TimeSource    # who measured it
    expires: float        # boot-clock reading after which it is stale


class KioskClock:
    def __init__(self, tz: tzinfo, now: Callable[[], float] = time.time,
                 monotonic: Callable[[], float] = boot_clock, *, jump_threshold: float = JUMP_THRESHOLD):
        self._tz = tz
        self._now = now                 # the machine's wall clock (a port: tests and campaigns move it)
        self.monotonic = monotonic      # the boot clock
        self.jump_threshold = jump_threshold
        self._lock = threading.Lock()
        self._anchor: Anchor | None = None
        self._adjusting = False
        self._last_skew: float | None = None

    # -- reading -----------------------------------------------------------------------------------------
    def _state(self) -> tuple[float, TimeSource, bool, float]:
        with self._lock:
            anchor, adjusting = self._anchor, self._adjusting
        mono = self.monotonic()
        if anchor is not None and mono <= anchor.expires:
            return anchor.epoch + (mono - anchor.at), anchor.source, adjusting, mono
        return self._now(), TimeSource.LOCAL, adjusting, mono

    def read(self) -> ClockReading:
        epoch, source, adjusting, mono = self._state()
        return ClockReading(datetime.fromtimestamp(epoch, self._tz), source, adjusting, monotonic=mono)

    def epoch(self) -> float:
        """The kiosk's time as Unix seconds (what request signatures carry)."""
        return self._state()[0]

    @property
    def offset(self) -> timedelta:
        """The kiosk's time minus the machine clock, now."""
        return timedelta(seconds=self.epoch() - self._now())

    # -- setting -----------------------------------------------------------------------------------------
    def begin_adjustment(self) -> None:
        with self._lock:
            self._adjusting = True

    def end_adjustment(self) -> None:
        with self._lock:
            self._adjusting = False

    def apply(self, offset_seconds: float, source: TimeSource, *, fresh_for: float = DEFAULT_FRESH_FOR) -> None:
        """Set the kiosk's time to the machine clock plus ``offset_seconds``, measured by ``source``, and end
        any adjustment. A LOCAL source drops the anchor (the machine clock is used as it is)."""
        self.apply_epoch(self._now() + offset_seconds, self.monotonic(), source, fresh_for=fresh_for)

    def apply_epoch(self, epoch: float, at: float, source: TimeSource, *,
                    fresh_for: float = DEFAULT_FRESH_FOR) -> None:
        """The true time ``epoch`` was measured at boot-clock reading ``at``; it stays valid ``fresh_for``."""
        anchor = None if source is TimeSource.LOCAL else Anchor(epoch, at, source, at + fresh_for)
        with self._lock:
            self._anchor, self._adjusting = anchor, False

    def measured_source(self) -> TimeSource:
        """The source of the anchor in force (LOCAL when none is fresh)."""
        return self._state()[1]

    # -- jumps -------------------------------------------------------------------------------------------
    def jumped(self) -> float:
        """Seconds the machine clock moved against the boot clock since the last call (0.0 below the
        threshold, and on the first call)."""
        skew = self._now() - self.monotonic()
        with self._lock:
            last, self._last_skew = self._last_skew, skew
        if last is None or abs(skew - last) < self.jump_threshold:
            return 0.0
        return skew - last


class MachineClockPort:
    """A machine clock that tests and the clock campaign move by hand: a wall clock that can jump and a boot
    clock that only runs (both start from the real ones; ``run`` moves both, ``jump`` only the wall)."""

    def __init__(self, wall: float | None = None, boot: float = 1000.0):
        self._wall = time.time() if wall is None else wall
        self._boot = boot
        self._lock = threading.Lock()

    def wall(self) -> float:
        with self._lock:
            return self._wall

    def boot(self) -> float:
        with self._lock:
            return self._boot

    def run(self, seconds: float) -> None:
        with self._lock:
            self._wall += seconds
            self._boot += seconds

    def jump(self, seconds: float) -> None:
        with self._lock:
            self._wall += seconds
