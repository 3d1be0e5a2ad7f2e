"""Composition of the sync side (part of the composition root): connection file → client slot →
outbox worker, データ更新 scheduler, time sync and 接続先変更. No Kivy."""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from functools import partial

from kiosk.adapters.connection_file import ConnectionFile
from kiosk.adapters.ledger.db import LedgerDatabase, translated
from kiosk.adapters.ledger.master_store import SqliteMasterData
from kiosk.adapters.ledger.master_sync import SqliteMasterSync
from kiosk.adapters.ledger.models import MetaRow
from kiosk.adapters.ledger.outbox import SqliteOutbox
from dakoku_core.errors import KioskError, Situation
from dakoku_core.protocol.recorder_settings import RecorderSettings
from kiosk.services.clock import KioskClock
from kiosk.services.connection_change import ConnectionChangeService
from kiosk.services.data_update import DataUpdateScheduler, DataUpdateService, RefreshPolicy
from kiosk.ports.recorder_api import ConnectionSettings
from kiosk.services.recorder_api import ClientSlot
from kiosk.services.sync import SyncService
from kiosk.services.time_sync import TimeSyncService
from kiosk.settings import SyncSettings

log = logging.getLogger(__name__)


# Errors of the outbox worker that waiting does not heal: shown once (error presenter), not only as "offline".
# Key → its kind: the heartbeat meets a refused certificate as 012, an upload as the no-code row; shown once.
ATTENTION_KEYS = {"certificate_invalid_local": "certificate", "certificate_invalid": "certificate",
                  "ip_not_allowed": "ip"}


def make_client(settings: ConnectionSettings, connection, certificate, answers=None):
    """``answers``: the kiosk's one AnswerLog, so a new client for the same server knows it answered recently."""
    from kiosk.adapters.recorder_client import KioskRecorderClient

    return KioskRecorderClient(connection, certificate, proxy_url=settings.proxy_url,
                               proxy_username=settings.proxy_username, proxy_password=settings.proxy_password,
                               answers=answers)


class AttentionErrors:
    """Watches the outbox worker's status and passes on an error of ``ATTENTION_KEYS`` (the server refuses the
    recorder's certificate or its IP while punches are uploaded) once per new error: the status line says
    "offline" for every failure, but these need somebody to act, so the error presenter shows them."""

    def __init__(self):
        self._listeners: list = []
        self._reported: str | None = None

    def listen(self, listener) -> None:
        self._listeners.append(listener)

    def changed(self, status) -> None:
        error = status.last_error
        kind = ATTENTION_KEYS.get(error.key) if error is not None else None
        if kind == self._reported:
            return
        self._reported = kind
        for listener in list(self._listeners) if kind is not None else ():
            try:
                listener(error)
            except Exception:  # noqa: BLE001 - a listener must not stop the worker
                log.exception("sync error listener failed")


@dataclass
class SyncParts:
    connection_file: ConnectionFile
    slot: ClientSlot
    sync: SyncService
    data_update: DataUpdateService
    scheduler: DataUpdateScheduler
    time_sync: TimeSyncService
    connection_change: ConnectionChangeService
    master_sync: SqliteMasterSync
    startup_errors: list[KioskError]
    update_listeners: list = field(default_factory=list)
    attention: "AttentionErrors" = field(default_factory=lambda: AttentionErrors())

    def on_sync_error(self, listener) -> None:
        """``listener(error)`` when the outbox worker meets an error that waiting does not heal (see
        :class:`AttentionErrors`); on the worker's thread: the UI subscribes through its bridge."""
        self.attention.listen(listener)

    def on_update_result(self, listener) -> None:
        """``listener(result_or_error)`` after each scheduled データ更新, on the scheduler's thread."""
        self.update_listeners.append(listener)

    def _update_result(self, result) -> None:
        for listener in list(self.update_listeners):
            try:
                listener(result)
            except Exception:  # noqa: BLE001 - a listener must not stop the schedule
                log.exception("update listener failed")

    @property
    def configured(self) -> bool:
        return self.slot.get() is not None

    def change_connection(self, connection_text: str, certificate_text: str, *, proxy_url: str = ""):
        """接続先変更 without losing punches: punches still unsent to the current recorder are delivered
        first; if they cannot be, a change to another recorder is refused (the new server would reject
        them, and they would never reach the old one)."""
        from dakoku_core.protocol.connection import parse_connection_string

        current = self.connection_file.load(Situation.CONNECTION_CHANGE) if self.configured else None
        if current is not None:
            try:
                new = parse_connection_string(connection_text.strip())
                old = parse_connection_string(current.connection_string)
                same_recorder = (new.url, new.company, new.recorder) == (old.url, old.company, old.recorder)
            except KioskError:
                same_recorder = True   # the change itself reports the malformed text (000)
            if not same_recorder and self.sync.drain().pending:
                raise KioskError("unsent_punches_block_change", situation=Situation.CONNECTION_CHANGE,
                                 context={"count": self.sync.status.pending})
        return self.connection_change.change(connection_text, certificate_text, proxy_url=proxy_url)

    def pair(self, host: str, code: str, check: str, *, proxy_url: str = ""):
        """ペアリングコードで設定 (kiosk.services.pairing): fetch with the code, check the CA, then the same
        change_connection as the manual form."""
        from kiosk.adapters.pairing_client import PairingClient
        from kiosk.services.pairing import PairingService
        service = PairingService(lambda proxy: PairingClient(proxy_url=proxy), self.change_connection,
                                 self.connection_change.situation)
        return service.pair(host, code, check, proxy_url=proxy_url)

    def not_known_offline(self) -> bool:
        """True unless the outbox worker has seen the server fail (unknown counts as maybe online)."""
        return self.sync.status.online is not False

    def stored_recorder_settings(self) -> RecorderSettings:
        """The server's recorder settings as the last データ更新 stored them (the shared defaults before the
        first), read from their one row: unlike ``master.recorder_settings()`` this does not load the whole
        master-data snapshot (about 1 s for 10,000 employees), so the start path can use it before the first
        frame (docs/performance.md). The version is not read: display and schedule do not need it."""
        return stored_settings(self.master_sync)

    def data_update_version(self) -> int | None:
        return self.master_sync.current_version().version

    def refresh_after_change(self) -> None:
        """After a credential change: pull it back so this kiosk knows it at once. A failure here is not the
        change's failure (it is already on the server); the schedule catches up."""
        try:
            self.data_update.update(Situation.REGISTRATION)
        except KioskError as error:
            log.warning("data update after a credential change failed: %s", error)

    def connected(self, *_args) -> None:
        """接続先変更 succeeded: a kiosk that had no connection starts its schedules now."""
        self.scheduler.start(run_at_start=False)
        self.time_sync.start()
        self.sync.notify()

    def start(self) -> None:
        """Background work: only with a connection (a kiosk that was never provisioned has nothing to
        sync with and must not reach for the network)."""
        self.sync.start()
        if self.configured:
            self.scheduler.start(run_at_start=True)
            self.time_sync.start()

    def stop(self) -> None:
        self.scheduler.stop(timeout=5)
        self.time_sync.stop(timeout=5)
        self.sync.stop(timeout=10)
        self.slot.set(None)


def build_sync(settings: SyncSettings, data_dir, ledger_db: LedgerDatabase, master: SqliteMasterData,
               clock: KioskClock) -> SyncParts:
    connection_file = ConnectionFile(data_dir)
    errors: list[KioskError] = []
    try:
        parsed = connection_file.load_parsed()
    except KioskError as error:   # 010: shown at start; the kiosk keeps punching offline
        errors.append(error)
        parsed = None
    from kiosk.adapters.transport_errors import AnswerLog

    new_client = partial(make_client, answers=AnswerLog())   # one log for every client of this kiosk
    slot = ClientSlot(new_client(*parsed) if parsed else None)
    sync = SyncService(SqliteOutbox(ledger_db), slot, interval=settings.upload_interval_seconds)
    master_sync = SqliteMasterSync(ledger_db, master)
    data_update = DataUpdateService(master_sync, slot, is_online=sync.is_online)
    # the server's refresh settings as last applied (its shared defaults before the first データ更新)
    policy = RefreshPolicy.from_settings(stored_settings(master_sync).as_dict())
    scheduler = DataUpdateScheduler(data_update, now=lambda: clock.read().at, policy=policy,
                                    on_result=lambda result: parts._update_result(result))
    time_sync = TimeSyncService(clock, slot, ntp_servers=settings.parsed_ntp_servers())
    sync.on_clock_skew = time_sync.request_sync     # the server refused our time: measure it again now
    change = ConnectionChangeService(connection_file, master_sync, new_client, slot=slot,
                                     on_changed=lambda *args: parts.connected(*args))
    parts = SyncParts(connection_file, slot, sync, data_update, scheduler, time_sync, change, master_sync, errors)
    sync.subscribe(parts.attention.changed)
    return parts


def stored_settings(master_sync: SqliteMasterSync) -> RecorderSettings:
    """See :meth:`SyncParts.stored_recorder_settings`; a damaged row gives the defaults (as the snapshot does)."""
    try:
        return RecorderSettings.from_dict(master_sync.recorder_settings() or None)
    except (ValueError, TypeError, AttributeError):
        log.warning("stored recorder settings unreadable: the shared defaults")
        return RecorderSettings()


@translated
def holds_master_data() -> bool:
    """Whether a データ更新 (or the demo's seed) stored this recorder's master data, from one row: the same answer
    as ``master.recorder() is not None`` without loading the whole snapshot at start."""
    return MetaRow.get_or_none(MetaRow.key == "recorder") is not None
