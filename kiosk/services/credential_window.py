"""Only a fresh credential punches: the waiting window (no Kivy).

A card read or a finger capture counts only if it was *read* while a screen was waiting for it. Every reader
stamps its :class:`~kiosk.ports.CardEvent` with the monotonic time it was read (``received_monotonic``) and every
sensor stamps its :class:`~kiosk.fingerprint.sensor.Capture` (``read_at``); a screen opens a window when it starts
to wait and closes it when it stops, and the window accepts only what was read inside it. A tap made on another
screen and delivered late (the bridge, a busy UI thread), or a press kept in a sensor's queue, was read before the
window opened: it is discarded, never used for the next person.

Re-opening moves the start: a new wait (another punch type chosen, the next person in モード動作, the second read
of a card registration) does not take what was read during the previous one.
"""
from __future__ import annotations

import logging
import threading
import time
from typing import Callable

log = logging.getLogger(__name__)


class WaitingWindow:
    """One screen's wait for a credential. Thread-safe: readers' threads may ask while the UI opens or closes."""

    def __init__(self, name: str = "", clock: Callable[[], float] = time.monotonic):
        self.name = name
        self._clock = clock
        self._lock = threading.Lock()
        self._opened_at: float | None = None

    def open(self, since: float | None = None) -> float:
        """Start (or restart) waiting now, or from ``since`` (e.g. the read that the next one must follow);
        returns the opening time."""
        with self._lock:
            self._opened_at = self._clock() if since is None else since
            return self._opened_at

    def close(self) -> None:
        with self._lock:
            self._opened_at = None

    @property
    def opened_at(self) -> float | None:
        """When the current wait began; None while nothing waits."""
        with self._lock:
            return self._opened_at

    @property
    def is_open(self) -> bool:
        return self.opened_at is not None

    def accepts(self, read_at: float) -> bool:
        """True if a credential read at ``read_at`` (monotonic) was read during this wait."""
        opened_at = self.opened_at
        fresh = opened_at is not None and read_at >= opened_at
        if not fresh:
            log.info("credential read %s discarded (%s window %s)", f"{read_at:.3f}", self.name or "a",
                     "closed" if opened_at is None else f"opened at {opened_at:.3f}")
        return fresh
