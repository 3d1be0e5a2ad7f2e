"""Schema migrations of the reference server: a numbered list of steps, run once each, in order.

The version lives in the server settings table (``serversetting``) under ``schema_version`` (one mechanism on SQLite and
PostgreSQL, and written in the same transaction as the step it records). ``create_tables()`` (run by every
admin command and by ``serve`` before gunicorn forks) creates what is missing, then:

- a new database (no ``punch`` table before) is created at the latest shape: it is stamped SCHEMA_VERSION;
- an older one runs each step above its version, each in its own write transaction.

A step must be idempotent (``IF EXISTS`` / ``IF NOT EXISTS``): a crash between the step and its version stamp
only means the step runs again. Add a step by appending to STEPS; docs/server.md lists them.
"""
from __future__ import annotations

from typing import Callable

from dakoku_server import db


def _punch_uuid_per_company() -> None:
    """1: punch UUIDs unique per company, not across companies (issue 10, item 5). ``create_tables`` has
    already made the (company, uuid) unique index; the old global one goes."""
    db.database.execute_sql('CREATE UNIQUE INDEX IF NOT EXISTS "punch_company_id_uuid" ON "punch" ("company_id", "uuid")')
    db.database.execute_sql('DROP INDEX IF EXISTS "punch_uuid"')


def _recorder_settings_history() -> None:
    """2: recorder settings by version (issue 9). ``create_tables`` has made the table; each recorder gets
    its current settings at version 0: what came before is unknown, so the current settings stand for it,
    as they did before this step. Only later changes have their own rows."""
    have = {rec_id for (rec_id,) in db.RecorderSettingsVersion.select(db.RecorderSettingsVersion.recorder).tuples()}
    rows = [{"recorder": rec_id, "version": 0, "settings_json": settings or "{}"}
            for rec_id, settings in db.Recorder.select(db.Recorder.id, db.Recorder.settings_json).tuples()
            if rec_id not in have]
    for start in range(0, len(rows), 500):
        db.RecorderSettingsVersion.insert_many(rows[start:start + 500]).execute()


def _credential_registered_by() -> None:
    """3: which recorder registered a card (issue 12, item 6: 設定 › 認証情報 lists it). Rows from before
    say "" (unknown)."""
    if "registered_by" not in {c.name for c in db.database.get_columns("credential")}:
        db.database.execute_sql("ALTER TABLE credential ADD COLUMN registered_by VARCHAR(32) NOT NULL DEFAULT ''")


STEPS: list[Callable[[], None]] = [_punch_uuid_per_company, _recorder_settings_history, _credential_registered_by]
SCHEMA_VERSION = len(STEPS)


def schema_version() -> int:
    value = db.setting("schema_version", "0")
    return int(value) if value.isdigit() else 0


def migrate(*, fresh: bool) -> list[int]:
    """Bring the database to SCHEMA_VERSION; the step numbers run (none for a new or current database)."""
    if fresh:
        with db.write_transaction():
            db.set_setting("schema_version", str(SCHEMA_VERSION))
        return []
    ran = []
    for number in range(schema_version() + 1, SCHEMA_VERSION + 1):
        with db.write_transaction():
            if schema_version() >= number:           # another process got there first
                continue
            STEPS[number - 1]()
            db.set_setting("schema_version", str(number))
        ran.append(number)
    return ran
