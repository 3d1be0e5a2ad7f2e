"""データ更新: pull master data from the server and apply it to the kiosk's cache.

Runs at start, on demand (設定 → データ更新) and every 2 hours outside the rush hours (default 08:00–10:00
and 17:00–19:00; the server's recorder settings ``refresh_interval_minutes`` / ``refresh_quiet_hours``
override the defaults once pulled). A pull sends the ETag and ``since=<version>``: an unchanged server
answers 304 and nothing is written. On demand while offline → ``online_only``.

Follow-up steps (``add_follow_up``) run after the master data, under the same lock, also after a 304 (e.g. the
fingerprint pull the composition root adds when a sensor is configured); a step's failure is the update's
failure (the same catalogue codes), the master data already applied stays.

:func:`is_due` is the scheduler's pure decision; :class:`DataUpdateScheduler` is the thread around it.
"""
from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Callable, Sequence

from dakoku_core.errors import KioskError, Situation, unexpected
from kiosk.ports.ledger import MasterStore
from kiosk.ports.recorder_api import ClientProvider, MasterSnapshot

log = logging.getLogger(__name__)
DATA_UPDATE = Situation.DATA_UPDATE


@dataclass(frozen=True)
class RefreshPolicy:
    interval: timedelta = timedelta(hours=2)
    quiet_hours: tuple[tuple[time, time], ...] = ((time(8, 0), time(10, 0)), (time(17, 0), time(19, 0)))
    retry_after_failure: timedelta = timedelta(minutes=10)

    @classmethod
    def from_settings(cls, settings: dict, base: "RefreshPolicy | None" = None) -> "RefreshPolicy":
        """The server's recorder settings (``refresh_interval_minutes``, ``refresh_quiet_hours`` as
        ``"HH:MM-HH:MM"``) over ``base``; anything malformed keeps the base value."""
        base = base or cls()
        interval, quiet = base.interval, base.quiet_hours
        minutes = settings.get("refresh_interval_minutes")
        if isinstance(minutes, int) and not isinstance(minutes, bool) and minutes >= 5:
            interval = timedelta(minutes=minutes)
        if isinstance(settings.get("refresh_quiet_hours"), list):
            try:
                quiet = tuple(parse_span(s) for s in settings["refresh_quiet_hours"])
            except (TypeError, ValueError):
                log.warning("ignoring malformed refresh_quiet_hours %r", settings["refresh_quiet_hours"])
        return cls(interval, quiet, base.retry_after_failure)


def parse_span(text: str) -> tuple[time, time]:
    start, sep, end = text.partition("-")
    if not sep:
        raise ValueError(f"not HH:MM-HH:MM: {text!r}")
    return time.fromisoformat(start.strip()), time.fromisoformat(end.strip())


def in_quiet_hours(at: time, quiet: tuple[tuple[time, time], ...]) -> bool:
    """Start inclusive, end exclusive; a span may cross midnight (22:00-02:00)."""
    for start, end in quiet:
        if (start <= at < end) if start <= end else (at >= start or at < end):
            return True
    return False


def is_due(now: datetime, last_success: datetime | None, last_attempt: datetime | None,
           policy: RefreshPolicy) -> bool:
    """Is it time for a scheduled データ更新? (Start-up and on-demand updates do not ask.)

    Never during quiet hours; otherwise when the last success is ``interval`` old (or there was none),
    but not sooner than ``retry_after_failure`` after the last attempt."""
    if in_quiet_hours(now.time().replace(tzinfo=None), policy.quiet_hours):
        return False
    if last_attempt is not None and now - last_attempt < policy.retry_after_failure:
        return False
    return last_success is None or now - last_success >= policy.interval


@dataclass(frozen=True)
class UpdateResult:
    changed: bool             # False: the server answered "unchanged" (304)
    version: int | None
    full: bool = False
    employees: int = 0        # employees in the answer (all of them, or the changed ones)
    recorder_settings: dict | None = None   # the server's recorder settings, when data came
    follow_ups: tuple = ()    # what each follow-up step returned
    credentials: int = 0      # credentials in the answer (likewise)
    deleted: int = 0          # what an incremental answer removed
    help_registrations: int = 0


class DataUpdateService:
    """Thread-safe: one update at a time (a second caller waits for the first and then runs its own)."""

    def __init__(self, store: MasterStore, client: ClientProvider, *,
                 is_online: Callable[[], bool] = lambda: True,
                 on_applied: Callable[[MasterSnapshot], None] | None = None,
                 follow_ups: Sequence[Callable[[Situation], object]] = ()):
        self._store = store
        self._client = client
        self._is_online = is_online
        self._applied_listeners = [on_applied] if on_applied else []
        self._follow_ups = list(follow_ups)
        self._lock = threading.Lock()

    def add_applied_listener(self, listener: Callable[[MasterSnapshot], None]) -> None:
        """``listener(snapshot)`` after master data was applied (even if a follow-up step then failed)."""
        self._applied_listeners.append(listener)

    def add_follow_up(self, step: Callable[[Situation], object]) -> None:
        """``step(situation)`` runs after each pull of the master data (see the module's docstring)."""
        self._follow_ups.append(step)

    def update(self, situation: Situation = DATA_UPDATE) -> UpdateResult:
        """Pull and apply (start-up and scheduled runs), then the follow-up steps. Raises KioskError (004-012,
        999)."""
        client = self._client()
        if client is None:
            raise KioskError("settings_unreadable", situation=situation, detail="no connection settings")
        follow_up_error: KioskError | None = None
        with self._lock:
            try:
                held = self._store.current_version()
                snapshot = client.master_data(since=held.version, etag=held.etag, situation=situation)
                if snapshot is not None:
                    self._store.apply(snapshot)
            except KioskError:
                raise
            except Exception as exc:  # noqa: BLE001
                log.exception("data update failed unexpectedly")
                raise unexpected(exc, situation) from exc
            try:
                follow_ups = tuple(step(situation) for step in self._follow_ups)
            except Exception as exc:  # noqa: BLE001 - reported after the applied master data is announced
                follow_up_error = exc if isinstance(exc, KioskError) else unexpected(exc, situation)
                if not isinstance(exc, KioskError):
                    log.exception("data update follow-up failed unexpectedly")
        if snapshot is not None:
            for listener in self._applied_listeners:   # applied data stands even when a follow-up failed
                listener(snapshot)
        if follow_up_error is not None:
            raise follow_up_error
        if snapshot is None:
            return UpdateResult(False, held.version, follow_ups=follow_ups)
        return UpdateResult(True, snapshot.version, snapshot.full, len(snapshot.employees),
                            credentials=len(snapshot.credentials), deleted=len(snapshot.deleted),
                            help_registrations=len(snapshot.help_registrations),
                            recorder_settings=dict(snapshot.recorder_settings), follow_ups=follow_ups)

    def update_on_demand(self) -> UpdateResult:
        """設定 → データ更新: refused with ``online_only`` while the kiosk is offline."""
        if not self._is_online():
            raise KioskError("online_only", situation=DATA_UPDATE)
        return self.update(DATA_UPDATE)


class DataUpdateScheduler:
    """Runs the update at start and whenever :func:`is_due` says so (checked every ``tick`` seconds).

    ``on_result(result_or_error)`` is called on the scheduler's thread after each run."""

    def __init__(self, service: DataUpdateService, *, now: Callable[[], datetime],
                 policy: RefreshPolicy = RefreshPolicy(), tick: float = 60.0,
                 on_result: Callable[[UpdateResult | KioskError], None] | None = None):
        self.service = service
        self.base_policy = self.policy = policy
        self._now = now
        self._tick = tick
        self._on_result = on_result
        self.last_success: datetime | None = None
        self.last_attempt: datetime | None = None
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        # The server's refresh settings apply as soon as its data is applied, even if the fingerprint pull after
        # it fails (that run still counts as failed and is retried).
        service.add_applied_listener(
            lambda snapshot: self._use_settings(snapshot.recorder_settings))

    def _use_settings(self, settings: dict) -> None:
        self.policy = RefreshPolicy.from_settings(settings, self.base_policy)

    def start(self, run_at_start: bool = True) -> None:
        if self._thread is None:
            self._stopping.clear()
            self._thread = threading.Thread(target=self._run, args=(run_at_start,), name="kiosk-data-update",
                                            daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def run_once(self) -> UpdateResult | KioskError:
        self.last_attempt = self._now()
        try:
            result: UpdateResult | KioskError = self.service.update(DATA_UPDATE)
            self.last_success = self.last_attempt
        except KioskError as exc:
            log.info("scheduled data update failed: %s", exc)
            result = exc
        if self._on_result:
            self._on_result(result)
        return result

    def _run(self, run_at_start: bool) -> None:
        if run_at_start and not self._stopping.is_set():
            self.run_once()
        while not self._stopping.wait(self._tick):
            if is_due(self._now(), self.last_success, self.last_attempt, self.policy):
                self.run_once()
