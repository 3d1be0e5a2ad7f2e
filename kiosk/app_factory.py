"""The composition root: settings → adapters → services (:func:`build_kiosk`) → UI (:func:`build_app`).

This is the one place that chooses adapters and builds services, all by keyword. Two parts of it live beside it
because they are long: :mod:`kiosk.sync_wiring` (connection file → client slot → outbox worker, データ更新, time sync,
接続先変更) and :mod:`kiosk.fingerprint_wiring` (sensor, extractor, sealed store → fingerprint service); nothing else
calls them. The UI's own wiring (which flow gets which event) is :meth:`kiosk.ui.app.KioskApp.connect_flows`.
No Kivy here: Kivy is imported by :func:`build_app` only, when a UI is wanted."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from kiosk.adapters.ledger import SqliteMasterData, SqlitePunchLedger
from kiosk.adapters.ledger.audit_store import SqliteAuditLog
from kiosk.adapters.ledger.db import LedgerDatabase, open_ledger_at_start
from kiosk.adapters.simulated_reader import SimulatedCardReader
from dakoku_core.demo import DEMO_MANAGER_PIN, seed_demo
from dakoku_core.domain.passwords import hash_password
from dakoku_core.errors import KioskError, Situation
from kiosk.ports import Browser, CardReader, Sound
from dakoku_core.protocol import signing
from kiosk.services.clock import KioskClock
from kiosk.services.manager import ManagerGate
from kiosk.services.diagnose import DiagnoseService, fingerprint_check, fingerprint_match_check
from kiosk.services.status import StatusService
from kiosk.services.punch import PasswordGuard, PunchService
from kiosk.services.help_registration import HelpRegistrationService
from kiosk.services.registration import CardRegistrationService
from kiosk.services.credentials import CredentialsService
from kiosk.services.presence import PresenceService
from kiosk.services.timecard import TimecardService
from kiosk.services.undo import UndoService
from kiosk.adapters.browser import SystemBrowser
from kiosk.settings import ReaderSettings, Settings
from kiosk.sync_wiring import SyncParts, build_sync, holds_master_data
from kiosk.fingerprint_wiring import FingerprintWarmUp, build_fingerprint

if TYPE_CHECKING:
    from kiosk.services.fingerprint import FingerprintService   # numpy: only with a sensor (fingerprint_wiring)
    from kiosk.ui.app import KioskApp


@dataclass(kw_only=True)
class Kiosk:
    """Everything the UI uses, built by :func:`build_kiosk` (by keyword: the fields say what each part is)."""

    settings: Settings
    ledger_db: LedgerDatabase
    punches: SqlitePunchLedger
    master: SqliteMasterData
    clock: KioskClock
    punch_service: PunchService
    reader: CardReader
    manager: ManagerGate
    status: StatusService
    diagnose: DiagnoseService
    sync: SyncParts
    timecard: TimecardService
    registration: CardRegistrationService
    help_registration: HelpRegistrationService
    credentials: CredentialsService                    # 設定 › 認証情報
    presence: PresenceService                          # 設定 › 出勤状況
    undo: UndoService                                  # 取り消し on the confirmation
    startup_errors: list[KioskError] = field(default_factory=list)
    fingerprint: FingerprintService | None = None      # None: no sensor configured (or it failed at start)
    fingerprint_warm_up: FingerprintWarmUp | None = None

    def start_background(self) -> None:
        """Outbox worker, データ更新 schedule, time sync and the fingerprint gallery (the reader is started by
        the UI)."""
        self.sync.start()
        if self.fingerprint_warm_up is not None:
            self.fingerprint_warm_up.start()

    def close(self) -> None:
        try:
            self.reader.stop()
            if self.fingerprint_warm_up is not None:
                self.fingerprint_warm_up.stop()
            if self.fingerprint is not None:
                self.fingerprint.sensor.close()
        finally:
            try:
                self.sync.stop()
            finally:
                signing.use_clock(None)
                self.ledger_db.close()


def make_reader(settings: ReaderSettings) -> CardReader:
    """The configured reader adapter. A backend that cannot load is a start-up error, never a fallback."""
    try:
        if settings.backend == "pcsc":
            from kiosk.adapters.pcsc_reader import PcscCardReader

            return PcscCardReader(settings.name_pattern)
        if settings.backend == "wedge":
            from kiosk.adapters.wedge_reader import WedgeCardReader, WedgeConfig

            return WedgeCardReader(WedgeConfig())
        if settings.backend == "simulated":
            return SimulatedCardReader()
    except KioskError as error:
        error.situation = Situation.STARTUP
        raise
    raise KioskError("device_init_failed", situation=Situation.STARTUP,
                     detail=f"unknown reader backend {settings.backend!r}")


def reader_checks(settings: ReaderSettings):
    """The reader part of 自己診断 for the configured backend (PC/SC only: the others have nothing to probe)."""
    if settings.backend != "pcsc":
        return None

    def checks(test_read: bool) -> list:
        from kiosk.adapters.reader_diagnosis import diagnose_readers

        return diagnose_readers(settings.name_pattern, test_read=test_read)
    return checks


def build_kiosk(settings: Settings, *, reader: CardReader | None = None, browser: Browser | None = None) -> Kiosk:
    """Settings → adapters → services. ``reader`` / ``browser`` replace the configured adapters (tests, demos)."""
    ledger_db, ledger_damage = open_ledger_at_start(settings.ledger_path)   # damage: kept aside, said at start
    master, punches = SqliteMasterData(ledger_db), SqlitePunchLedger(ledger_db)
    clock = KioskClock(settings.tz)
    signing.use_clock(clock.epoch)      # requests are signed with the kiosk's corrected time
    sync = build_sync(settings.sync, settings.data_dir, ledger_db, master, clock)
    startup_errors: list[KioskError] = ([ledger_damage] if ledger_damage else []) + list(sync.startup_errors)
    if settings.demo and not sync.configured:
        seed_demo(master, clock.read().at.date())     # the offline demo: no server to pull from
    if not sync.configured and not holds_master_data():   # one row: the snapshot loads after the first frame
        # Nothing to punch against and nowhere to get it from. (A provisioned kiosk pulls its data in the
        # background at start; the UI says 008 only if that pull fails.)
        startup_errors.append(KioskError("startup_data_missing", situation=Situation.STARTUP))
    guard = PasswordGuard()   # パスワード認証 and タイムカード share each employee's lock-out
    punch_service = PunchService(master, punches, clock, is_online=sync.sync.is_online,
                                 on_recorded=sync.sync.notify, guard=guard)   # rules' settings: the server's
    fingerprint, sensor_error = build_fingerprint(settings, ledger_db, master, punch_service, sync)
    if sensor_error is not None:
        startup_errors.append(sensor_error)
    warm_up = None if fingerprint is None else FingerprintWarmUp(
        fingerprint, master, settings.fingerprint.demo_fingers if settings.demo else 0)
    device_checks = (lambda: []) if settings.fingerprint.backend == "none" else (
        lambda: [fingerprint_check(fingerprint, sensor_error)]
        + ([] if fingerprint is None else [fingerprint_match_check(fingerprint)]))
    pin_hash = settings.manager_pin_hash or (hash_password(DEMO_MANAGER_PIN, n=2**12) if settings.demo else "")
    return Kiosk(
        settings=settings, ledger_db=ledger_db, punches=punches, master=master, clock=clock,
        punch_service=punch_service, reader=reader or make_reader(settings.reader),
        manager=ManagerGate(pin_hash, SqliteAuditLog(ledger_db)),
        status=StatusService(punches, master, is_online=sync.sync.is_online),
        diagnose=DiagnoseService(ledger_db.quick_check, clock, reader_checks(settings.reader), client=sync.slot,
                                 device_checks=device_checks),
        sync=sync, startup_errors=startup_errors, fingerprint=fingerprint, fingerprint_warm_up=warm_up,
        **_server_services(settings, master, punches, clock, sync, guard, punch_service, fingerprint,
                           browser or SystemBrowser(settings.display.browser)))


def _server_services(settings: Settings, master: SqliteMasterData, punches: SqlitePunchLedger, clock: KioskClock,
                     sync: SyncParts, guard: PasswordGuard, punch_service: PunchService,
                     fingerprint: FingerprintService | None, browser: Browser) -> dict:
    """The services that talk to the attendance server (besides sync): the Kiosk's fields they fill."""
    online = dict(is_online=sync.sync.is_online, refresh=sync.refresh_after_change)
    credentials = CredentialsService(master, master, sync.slot, **online,
                                     fingers=lambda: fingerprint.store if fingerprint else None)
    return dict(
        timecard=TimecardService(master, sync.slot, browser, is_online=sync.not_known_offline, guard=guard),
        registration=CardRegistrationService(master, sync.slot, **online),
        help_registration=HelpRegistrationService(master, sync.slot, **online),
        credentials=credentials,
        presence=PresenceService(master, punches, lambda: clock.read().at, sync.slot,
                                 is_online=sync.not_known_offline, employees=credentials.employees),
        undo=UndoService(punches, clock, window_seconds=settings.display.undo_seconds,
                         is_online=sync.sync.is_online, on_recorded=sync.sync.notify, forget=punch_service.forget))


def build_app(settings: Settings, *, reader: CardReader | None = None, browser: Browser | None = None,
              sound: Sound | None = None) -> "KioskApp":
    """The whole kiosk: :func:`build_kiosk`, then the Kivy app on it (which makes the flows and connects them).
    Call it after ``kiosk.ui.window.configure_kivy``: Kivy reads its configuration on first import."""
    kiosk = build_kiosk(settings, reader=reader, browser=browser)
    from kiosk.ui.app import KioskApp

    return KioskApp(kiosk, sound=sound)
