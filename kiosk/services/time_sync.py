"""The kiosk's time source: NTP first, then the server's clock (GET /v1/time), then the local clock.

:meth:`TimeSyncService.sync_once` asks the sources in that order and gives the first answer to the
:class:`kiosk.services.clock.KioskClock` as an anchor (true time at a boot-clock instant) that stays fresh for
``hold`` seconds. When every source fails, the anchor in force is kept while it is fresh; a stale one is
dropped by the clock itself (the reading says ``local``).

A measurement that would *step* the kiosk's time (move it by more than ``step_threshold`` seconds) is not
applied on one answer: the clock enters ``adjusting`` and the sources are asked once more; the second answer
is applied and ends the adjustment. A punch in between is refused with 認証に失敗しました, cause B (the kiosk
does not know which time is right). This happens at the first sync after a start with a wrong machine clock,
after a clock jump and when a source's clock moved.

The background thread ticks every ``tick`` seconds: it syncs every ``interval``, at once when asked
(:meth:`request_sync`, e.g. after the server refused a signature for clock skew), and at once when the machine
clock jumped against the boot clock (:meth:`KioskClock.jumped`). The queries block (NTP timeout, HTTPS): they
run on that thread, never on the UI's.
"""
from __future__ import annotations

import logging
import socket
import threading
import time
from dataclasses import dataclass
from typing import Callable

from dakoku_core.domain.model import TimeSource
from dakoku_core.errors import KioskError
from kiosk.services.clock import DEFAULT_FRESH_FOR, KioskClock
from kiosk.ports.recorder_api import ClientProvider

log = logging.getLogger(__name__)
DEFAULT_NTP_SERVERS = (("ntp.nict.jp", 123),)
STEP_THRESHOLD = 2.0   # seconds: a larger change of the kiosk's time is confirmed by a second answer


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
                 interval: float = 3600.0, hold: float = DEFAULT_FRESH_FOR, tick: float = 1.0,
                 step_threshold: float = STEP_THRESHOLD,
                 ntp_query: Callable[[str, int, float], float] = ntp_offset,
                 monotonic: Callable[[], float] = time.monotonic,
                 on_change: Callable[[TimeSyncResult], None] | None = None):
        self._clock = clock
        self._client = client
        self.ntp_servers = tuple(ntp_servers)
        self.ntp_timeout = ntp_timeout
        self.interval = interval
        self.hold = hold
        self.tick = tick
        self.step_threshold = step_threshold
        self._ntp_query = ntp_query
        self._monotonic = monotonic
        self._on_change = on_change
        self._lock = threading.Lock()
        self.last_result: TimeSyncResult | None = None
        self.steps = 0             # measurements that stepped the kiosk's time (each confirmed by a second)
        self.jumps = 0             # machine clock jumps noticed on the tick
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
            if result.source is not TimeSource.LOCAL:
                if self._steps(result):
                    result = self._confirm_step(result)
                self._apply(result)
            else:
                result = self._keep(result)
            changed, self.last_result = result != self.last_result, result
        log.info("time source %s, offset %+.3fs (%s)", result.source.value, result.offset, result.detail)
        if changed and self._on_change:
            self._on_change(result)
        return result

    def _steps(self, result: TimeSyncResult) -> bool:
        return abs(time.time() + result.offset - self._clock.epoch()) > self.step_threshold

    def _confirm_step(self, first: TimeSyncResult) -> TimeSyncResult:
        """The kiosk's time is about to step: refuse punches (adjusting) until a second answer is applied."""
        self._clock.begin_adjustment()
        try:
            second = self.measure()
        except BaseException:
            self._clock.end_adjustment()
            raise
        self.steps += 1
        chosen = second if second.source is not TimeSource.LOCAL else first
        log.warning("time step of %+.3fs (%s), confirmed by %s", time.time() + chosen.offset - self._clock.epoch(),
                    first.source.value, second.source.value)
        return chosen

    def _apply(self, result: TimeSyncResult) -> None:
        """Anchor the measured time (ends any adjustment)."""
        self._clock.apply_epoch(time.time() + result.offset, self._clock.monotonic(), result.source,
                                fresh_for=self.hold)

    def _keep(self, failed: TimeSyncResult) -> TimeSyncResult:
        """Every source failed: the anchor in force stays while it is fresh (the clock drops it after)."""
        self._clock.end_adjustment()
        held = self._clock.measured_source()
        if held is TimeSource.LOCAL:
            return failed
        return TimeSyncResult(held, self._clock.offset.total_seconds(), f"kept from an earlier sync; {failed.detail}")

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
        self._clock.jumped()                       # the baseline for the jump check
        next_sync = self._monotonic()
        while not self._stopping.is_set():
            if self._wake.is_set() or self._monotonic() >= next_sync:
                self._wake.clear()
                try:
                    self.sync_once()
                except Exception:  # noqa: BLE001 - keep the clock service alive
                    log.exception("time sync failed unexpectedly")
                    self._clock.end_adjustment()
                next_sync = self._monotonic() + self.interval
            self._wake.wait(max(0.0, min(self.tick, next_sync - self._monotonic())))
            self._check_jump()

    def _check_jump(self) -> None:
        jump = self._clock.jumped()
        if jump and not self._stopping.is_set():
            self.jumps += 1
            log.warning("the machine clock jumped %+.1fs: measuring the time again", jump)
            self._wake.set()
