"""Wiring the fingerprint path (part of the composition root): settings → sensor, extractor and sealed template
store → :class:`FingerprintService` (registering with the server through the sync side's client), the fingerprint
pull as a データ更新 follow-up step, plus the background warm-up (and the demo's enrolled fingers)."""
from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING

from kiosk.adapters.ledger.db import LedgerDatabase
from dakoku_core.errors import KioskError, Situation
from kiosk.ports import MasterData
from kiosk.services.punch import PunchService
from kiosk.settings import FingerprintSettings, Settings
from kiosk.sync_wiring import SyncParts

if TYPE_CHECKING:   # numpy (dakoku_core.fingerprint) is imported only when a sensor is configured
    from kiosk.services.fingerprint import FingerprintService

log = logging.getLogger(__name__)


def make_sensor(settings: FingerprintSettings):
    """The configured sensor adapter; a backend that cannot load raises ``device_init_failed``."""
    if settings.backend == "simulated":
        from kiosk.fingerprint.simulated_sensor import SimulatedSensor

        return SimulatedSensor()
    if settings.backend == "libfprint":
        from kiosk.fingerprint.libfprint_sensor import LibfprintSensor

        return LibfprintSensor(driver=settings.driver or None)
    raise KioskError("device_init_failed", situation=Situation.STARTUP,
                     detail=f"unknown fingerprint backend {settings.backend!r}")


def build_fingerprint(settings: Settings, ledger_db: LedgerDatabase, master: MasterData, punches: PunchService,
                      sync: SyncParts | None = None) -> tuple[FingerprintService | None, KioskError | None]:
    """The service and the start-up error, if any: 「認証機器の初期化に失敗しました」 is shown at start (never a
    silent fallback) and cards keep working. If the backend, extractor or keys fail there is no service; if only
    the device does not open (not plugged in yet) the service is built around the closed sensor and the UI keeps
    trying to open it, so a sensor plugged in after the kiosk started works without a restart. With ``sync``,
    enrolment registers with the server and データ更新 pulls the fingers of this recorder's scope."""
    fp = settings.fingerprint
    if fp.backend == "none":
        return None, None
    sensor = None
    try:
        from kiosk.adapters.ledger.fingerprint_store import SqliteFingerprintStore
        from kiosk.services.fingerprint import FingerprintService
        from kiosk.services.fingerprint_sync import FingerprintSync
        from dakoku_core.fingerprint.crypto import FileKeyProvider, TemplateCipher
        from dakoku_core.fingerprint.extractors import MindtctExtractor

        sensor = make_sensor(fp)
        extractor = MindtctExtractor()
        try:
            keys = FileKeyProvider(settings.fingerprint_keys_dir)
        except OSError as exc:
            raise KioskError("device_init_failed", detail=f"template keys: {exc}") from exc
    except KioskError as error:
        error.situation, error.device = Situation.STARTUP, "sensor"
        if sensor is not None:
            sensor.close()
        log.error("fingerprint path unavailable: %s", error)
        return None, error
    device_error = None
    try:
        sensor.open()
    except KioskError as error:
        error.situation, error.device = Situation.STARTUP, "sensor"
        log.error("fingerprint sensor not open at start (the kiosk keeps looking for it): %s", error)
        device_error = error
    store = SqliteFingerprintStore(ledger_db, TemplateCipher(keys))
    online = {} if sync is None else dict(client=sync.slot, is_online=sync.sync.is_online,
                                          refresh=sync.refresh_after_change)
    service = FingerprintService(sensor, extractor, store, master, punches, captures=fp.captures,
                                 capture_timeout=fp.capture_timeout_seconds, pattern_limit=fp.pattern_limit,
                                 two_factor=fp.two_factor, **online)
    service.sensor_error = device_error
    if sync is not None:
        sync.data_update.add_follow_up(
            FingerprintSync(store, sync.slot, master, service.candidates, sync.data_update_version).pull)
    return service, device_error


class FingerprintWarmUp:
    """Builds the gallery in the background at start (and, in the demo, enrols the demo fingers first)."""

    def __init__(self, service: FingerprintService, master: MasterData, demo_fingers: int = 0):
        self._service, self._master, self._demo_fingers = service, master, demo_fingers
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="fingerprint-warm-up", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            if self._demo_fingers:
                from kiosk.demo_fingers import enrol_demo_fingers

                enrol_demo_fingers(self._service, self._master, self._demo_fingers, stop=self._stop)
            if not self._stop.is_set():
                self._service.warm_up()
        except Exception:   # noqa: BLE001 - the first punch builds the gallery again and reports its error
            log.exception("fingerprint warm-up failed")

    def stop(self, timeout: float = 10.0) -> None:
        """Before the ledger closes: the thread must not write into whatever ledger opens next."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()
