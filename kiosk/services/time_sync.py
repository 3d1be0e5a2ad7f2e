"""The kiosk's time source: NTP first, then the server's clock (GET /v1/time), then the local clock.

:meth:`TimeSyncService.sync_once` asks the sources in that order and applies the first answer to the
:class:`kiosk.services.clock.KioskClock` (``begin_adjustment`` then ``apply(offset, source)``: a punch in
between is refused with 認証に失敗しました, cause B). When every source fails, a previous offset is kept for
``hold`` (the machine clock drifts slowly) and then dropped to the local clock (offset 0, source LOCAL).
The queries block (NTP timeout, HTTPS): :meth:`start` runs them on a background thread, never on the UI's.
"""
from __future__ import annotations

import logging
import socket
import threading
import time
from dataclasses import dataclass
from typing import Callable

from kiosk.domain.model import TimeSource
from kiosk.errors import KioskError
from kiosk.services.clock import KioskClock
from kiosk.services.recorder_api import ClientProvider

log = logging.getLogger(__name__)
DEFAULT_NTP_SERVERS = (("ntp.nict.jp", 123),)


@dataclass(frozen=True)
class TimeSyncResult:
    source: TimeSource
    offset: float              # seconds added to the machine clock
    detail: str = ""           # which server answered, or why the sources failed


def ntp_offset(host: str, port: int = 123, timeout: float = 2.0) -> float:
    """Offset of the machine clock against an NTP server (ntplib, SNTP v4); raises OSError on failure."""
    import ntplib
    try:
        return float(ntplib.NTPClient().request(host, port=port, version=4, timeout=timeout).offset)
    except ntplib.NTPException as exc:
        raise OSError(f"NTP {host}:{port}: {exc}") from exc
    except socket.gaierror as exc:
        raise OSError(f"NTP {host}:{port}: {exc}") from exc


class TimeSyncService:
    def __init__(self, clock: KioskClock, client: ClientProvider, *,
                 ntp_servers: tuple[tuple[str, int], ...] = DEFAULT_NTP_SERVERS, ntp_timeout: float = 2.0,
                 interval: float = 3600.0, hold: float = 6 * 3600.0,
                 ntp_query: Callable[[str, int, float], float] = ntp_offset,
                 monotonic: Callable[[], float] = time.monotonic,
                 on_change: Callable[[TimeSyncResult], None] | None = None):
        self._clock = clock
        self._client = client
        self.ntp_servers = tuple(ntp_servers)
        self.ntp_timeout = ntp_timeout
        self.interval = interval
        self.hold = hold
        self._ntp_query = ntp_query
        self._monotonic = monotonic
        self._on_change = on_change
        self._lock = threading.Lock()
        self._last_good: tuple[float, TimeSyncResult] | None = None   # (monotonic, result)
        self.last_result: TimeSyncResult | None = None
        self._stopping = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    def measure(self) -> TimeSyncResult:
        """Ask the sources in order; no change to the clock."""
        problems = []
        for host, port in self.ntp_servers:
            try:
                return TimeSyncResult(TimeSource.NTP, self._ntp_query(host, port, self.ntp_timeout), f"{host}:{port}")
            except OSError as exc:
                problems.append(str(exc))
        client = self._client()
        if client is not None:
            try:
                answer = client.server_time()
                return TimeSyncResult(TimeSource.SERVER, answer.offset, f"server (rtt {answer.round_trip:.3f}s)")
            except KioskError as exc:
                problems.append(f"server: {exc.key} {exc.detail}"[:200])
        else:
            problems.append("server: not configured")
        return TimeSyncResult(TimeSource.LOCAL, 0.0, "; ".join(problems))

    def sync_once(self) -> TimeSyncResult:
        """Measure and apply (blocking)."""
        with self._lock:
            result = self.measure()
            now = self._monotonic()
            if result.source is not TimeSource.LOCAL:
                self._last_good = (now, result)
            elif self._last_good is not None and now - self._last_good[0] < self.hold:
                kept = self._last_good[1]
                result = TimeSyncResult(kept.source, kept.offset, f"kept from an earlier sync; {result.detail}")
            self._clock.begin_adjustment()
            self._clock.apply(result.offset, result.source)
            changed, self.last_result = result != self.last_result, result
        log.info("time source %s, offset %+.3fs (%s)", result.source.value, result.offset, result.detail)
        if changed and self._on_change:
            self._on_change(result)
        return result

    def request_sync(self) -> None:
        """Ask the background thread for a sync now (e.g. after the server said clock_skew)."""
        self._wake.set()

    def start(self) -> None:
        if self._thread is None:
            self._stopping.clear()
            self._thread = threading.Thread(target=self._run, name="kiosk-time-sync", daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                self.sync_once()
            except Exception:  # noqa: BLE001 - keep the clock service alive
                log.exception("time sync failed unexpectedly")
                self._clock.end_adjustment()
            self._wake.wait(self.interval)
            self._wake.clear()
