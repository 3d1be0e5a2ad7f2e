"""接続先変更: take a new connection string and certificate, prove they work, then keep them.

1. Parse locally (dakoku_core.protocol): a malformed connection string is 000, a malformed certificate or one
   for another recorder (or another CA than the pinned one) is 012. Nothing is sent yet.
2. Pull the full master data with the new settings (004-007, 009, 012 as the client maps them, with the
   message variant of 接続先変更: 「データの取得に失敗しました」).
3. Check that what the kiosk needs to start is there: the recorder (the one named by the connection
   string), its department, the card key → otherwise 008.
4. Save the settings file atomically, then apply the master data. If applying fails, the old file is put
   back. Only then does the new client replace the old one.

A failure at any step leaves the old working settings (file, client and cached master data) as they were.
"""
from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import Callable

from dakoku_core.errors import KioskError, Situation, unexpected
from kiosk.ports import SettingsFile
from dakoku_core.protocol.certificate import RecorderCertificate, check_pair, parse_certificate
from dakoku_core.protocol.connection import ConnectionString, parse_connection_string
from kiosk.services.recorder_api import ClientSlot
from kiosk.ports.ledger import MasterStore
from kiosk.ports.recorder_api import ConnectionSettings, MasterSnapshot, RecorderApi

log = logging.getLogger(__name__)
CHANGE = Situation.CONNECTION_CHANGE

ClientFactory = Callable[[ConnectionSettings, ConnectionString, RecorderCertificate], RecorderApi]


@dataclass(frozen=True)
class ChangeResult:
    connection: ConnectionString
    version: int
    employees: int
    departments: int


def validate_texts(connection_text: str, certificate_text: str) -> tuple[ConnectionString, RecorderCertificate]:
    """Local checks only: 000 for the connection string, 012 for the certificate (and the pair)."""
    connection = parse_connection_string(connection_text)
    certificate = parse_certificate(certificate_text)
    check_pair(connection, certificate)
    return connection, certificate


def missing_for_start(snapshot: MasterSnapshot, connection: ConnectionString) -> list[str]:
    """What the kiosk needs to start and the pulled data lacks (empty list: all there)."""
    missing = []
    rec = snapshot.recorder
    if not rec.code or (rec.code, rec.company_code) != (connection.recorder, connection.company):
        missing.append("recorder")
    if rec.department_code not in {d.code for d in snapshot.departments}:
        missing.append("recorder department")
    if not snapshot.card_key and snapshot.device == "card":
        missing.append("card key")
    if not snapshot.full:
        missing.append("full data set")
    return missing


class ConnectionChangeService:
    def __init__(self, settings_file: SettingsFile, store: MasterStore, make_client: ClientFactory, *,
                 slot: ClientSlot | None = None,
                 on_changed: Callable[[ConnectionSettings, MasterSnapshot], None] | None = None):
        self._file = settings_file
        self._store = store
        self._make_client = make_client
        self._slot = slot
        self._on_changed = on_changed
        self._lock = threading.Lock()

    def validate(self, connection_text: str, certificate_text: str) -> ConnectionString:
        """For the form: check the pasted texts without touching the network (000 / 012)."""
        return validate_texts(connection_text, certificate_text)[0]

    def change(self, connection_text: str, certificate_text: str, *, proxy_url: str = "",
               proxy_username: str = "", proxy_password: str = "") -> ChangeResult:
        """Validate, fetch, check, save. Blocking (network): call it off the UI thread."""
        with self._lock:
            try:
                return self._change(ConnectionSettings(connection_text.strip(), certificate_text.strip() + "\n",
                                                       proxy_url.strip(), proxy_username, proxy_password))
            except KioskError:
                raise
            except Exception as exc:  # noqa: BLE001
                log.exception("接続先変更 failed unexpectedly")
                raise unexpected(exc, CHANGE) from exc

    def situation(self) -> Situation:
        """初期設定 while the kiosk has never been connected (no connection file), else 接続先変更."""
        try:
            return CHANGE if self._file.load(CHANGE) is not None else Situation.INITIAL_SETUP
        except KioskError:
            return CHANGE                    # a broken file: it was set up before

    def _change(self, new: ConnectionSettings) -> ChangeResult:
        connection, certificate = validate_texts(new.connection_string, new.certificate)
        situation = self.situation()
        client = self._make_client(new, connection, certificate)
        try:
            snapshot = client.master_data(situation=situation)
            if snapshot is None:   # cannot happen without an ETag; treat as a broken answer
                raise KioskError("server_error", situation=situation, detail="304 to a request without ETag")
            missing = missing_for_start(snapshot, connection)
            if missing:
                raise KioskError("startup_data_missing", situation=situation,
                                 detail="missing: " + ", ".join(missing))
            self._save_and_apply(new, snapshot)
        except BaseException:
            client.close()
            raise
        if self._slot is not None:
            self._slot.set(client)
        if self._on_changed:
            self._on_changed(new, snapshot)
        return ChangeResult(connection, snapshot.version, len(snapshot.employees), len(snapshot.departments))

    def _save_and_apply(self, new: ConnectionSettings, snapshot: MasterSnapshot) -> None:
        try:
            old = self._file.load(CHANGE)
        except KioskError:
            old = None                      # a broken old file is being replaced anyway
        self._file.save(new, CHANGE)
        try:
            self._store.apply(snapshot)
        except BaseException:
            if old is not None:
                try:
                    self._file.save(old, CHANGE)
                except KioskError:
                    log.exception("could not restore the previous connection settings")
            raise
