"""Ledger schema 8 (issue 9): each punch keeps the master-data version whose recorder settings judged it, and
uploads it. An older ledger migrates; its punches have no version and upload without one (the server then
judges them with its current settings, as before). Real SQLite files on disk."""
from __future__ import annotations

import json
import sqlite3
from datetime import datetime, timedelta, timezone

from kiosk.adapters.ledger import SqliteMasterData, SqlitePunchLedger, open_ledger
from kiosk.adapters.ledger.db import MIGRATIONS, SCHEMA_VERSION
from kiosk.adapters.ledger.outbox import SqliteOutbox
from kiosk.adapters.recorder_client import punch_to_wire
from dakoku_core.domain.model import AuthMethod, Punch, PunchKind, TimeSource

JST = timezone(timedelta(hours=9))


def _schema_7_ledger(path, settings: dict | None) -> None:
    """A ledger as the previous release left it: one punch, and the settings of a データ更新 at version 12."""
    with sqlite3.connect(path) as conn:
        for statements in MIGRATIONS[:7]:
            for statement in statements:
                conn.execute(statement)
        conn.execute("PRAGMA user_version = 7")
        conn.execute("INSERT INTO punch (uuid, employee_key, kind, stamped_at_utc, utc_offset_min, time_source, "
                     "offline, auth_method, recorder_code, created_at_utc, seq) VALUES ('old-1', 'E1', "
                     "'clock_in', '2026-11-30T00:00:00.000000Z', 540, 'ntp', 0, 'card', 'R001', "
                     "'2026-11-30T00:00:00.000000Z', 1)")
        conn.execute("INSERT INTO meta VALUES ('master_version', '12')")
        if settings is not None:
            conn.execute("INSERT INTO meta VALUES ('recorder_settings', ?)", (json.dumps(settings),))


def test_an_older_ledger_migrates_and_its_punches_upload_without_a_version(tmp_path):
    path = tmp_path / "ledger.sqlite3"
    _schema_7_ledger(path, {"reauth_interval_seconds": 30})
    ledger = open_ledger(path)
    try:
        assert ledger.db.execute_sql("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION >= 8
        punches, outbox = SqlitePunchLedger(ledger), SqliteOutbox(ledger)
        old = punches.get("old-1")
        assert old.master_version is None and "master_version" not in punch_to_wire(old)
        # the settings stored before the upgrade came with the version stored beside them
        settings = SqliteMasterData(ledger).recorder_settings()
        assert (settings.reauth_interval_seconds, settings.version) == (30, 12)
        new = Punch(employee_key="E1", kind=PunchKind.CLOCK_OUT, stamped_at=datetime(2026, 11, 30, 18, tzinfo=JST),
                    time_source=TimeSource.NTP, offline=False, auth_method=AuthMethod.CARD, recorder_code="R001",
                    master_version=settings.version)
        punches.record(new)
        assert punches.get(new.uuid) == new
        assert [punch_to_wire(p).get("master_version") for p in outbox.pending_batch()] == [None, 12]
    finally:
        ledger.close()


def test_a_ledger_without_server_settings_judges_with_the_defaults_of_version_0(tmp_path):
    path = tmp_path / "ledger.sqlite3"
    _schema_7_ledger(path, None)
    ledger = open_ledger(path)
    try:
        assert SqliteMasterData(ledger).recorder_settings().version == 0
    finally:
        ledger.close()
