"""A ledger that cannot record gives the catalogue's error and the punch is not acknowledged.

Each condition is real: another process holding the write lock, a full file system (tmpfs), an
immutable (read-only) file, a corrupt file."""
from __future__ import annotations

import sqlite3
import subprocess
import uuid
from datetime import datetime, timedelta, timezone

import pytest

from kiosk.adapters.ledger import SqlitePunchLedger, open_ledger
from kiosk.adapters.ledger.db import SCHEMA_VERSION
from dakoku_core.domain.model import AuthMethod, Punch, PunchKind, TimeSource
from dakoku_core.errors import KioskError

JST = timezone(timedelta(hours=9))


def a_punch(**kw) -> Punch:
    values = dict(employee_key="E1", kind=PunchKind.CLOCK_IN, stamped_at=datetime(2026, 11, 25, 9, tzinfo=JST),
                  time_source=TimeSource.LOCAL, offline=True, auth_method=AuthMethod.CARD, recorder_code="R1")
    values.update(kw)
    return Punch(**values)


def test_schema_is_versioned_and_migration_is_idempotent(tmp_path):
    db = open_ledger(tmp_path / "l.db")
    assert db.db.execute_sql("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert db.db.execute_sql("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.db.execute_sql("PRAGMA synchronous").fetchone()[0] == 2
    assert db.migrate() == SCHEMA_VERSION  # nothing left to do
    db.close()


def test_round_trip_keeps_local_offset(ledger_db):
    punches = SqlitePunchLedger(ledger_db)
    p = a_punch()
    punches.record(p)
    back = punches.get(p.uuid)
    assert back == p and back.stamped_at.utcoffset() == timedelta(hours=9)


def test_same_uuid_twice_is_refused_not_duplicated(ledger_db):
    punches = SqlitePunchLedger(ledger_db)
    p = a_punch()
    punches.record(p)
    with pytest.raises(KioskError) as info:
        punches.record(p)
    assert info.value.key == "punch_record_failed"
    assert punches.count() == 1


def test_locked_by_another_writer(ledger_db):
    punches = SqlitePunchLedger(ledger_db)
    other = sqlite3.connect(ledger_db.path, timeout=0)
    other.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(KioskError) as info:
            punches.record(a_punch())
    finally:
        other.rollback()
        other.close()
    err = info.value
    assert err.key == "punch_record_failed" and err.message() == "勤務時間の記録に失敗しました"
    assert "busy" in err.detail or "locked" in err.detail
    assert punches.count() == 0


def test_disk_full(tmp_path):
    mount = tmp_path / "small"
    mount.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(mount)],
                      capture_output=True).returncode != 0:
        pytest.skip("cannot mount a small tmpfs here (needs root and CAP_SYS_ADMIN)")
    try:
        db = open_ledger(mount / "l.db")
        punches = SqlitePunchLedger(db)
        recorded = 0
        with pytest.raises(KioskError) as info:
            for _ in range(100_000):
                punches.record(a_punch(employee_key="E" + uuid.uuid4().hex * 4))
                recorded += 1
        assert info.value.key == "punch_record_failed"
        assert "disk full" in info.value.detail or "I/O" in info.value.detail
        assert punches.count() == recorded  # every acknowledged punch is still there, nothing more
        db.close()
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def test_read_only_file(tmp_path):
    path = tmp_path / "l.db"
    db = open_ledger(path)
    db.close()
    if subprocess.run(["chattr", "+i", str(path)], capture_output=True).returncode != 0:
        pytest.skip("chattr +i not permitted here")
    try:
        db = open_ledger(path)
        with pytest.raises(KioskError) as info:
            SqlitePunchLedger(db).record(a_punch())
        assert info.value.key == "punch_record_failed"
        db.close()
    finally:
        subprocess.run(["chattr", "-i", str(path)], check=False)


def test_corrupt_file_asks_for_restart(tmp_path):
    path = tmp_path / "l.db"
    open_ledger(path).close()
    for suffix in ("-wal", "-shm"):
        (tmp_path / f"l.db{suffix}").unlink(missing_ok=True)
    path.write_bytes(b"this is not an SQLite database at all" * 200)
    with pytest.raises(KioskError) as info:
        open_ledger(path)
    err = info.value
    assert err.key == "punch_record_failed" and err.variant == "save"
    assert err.message().startswith("打刻の保存に失敗しました。")
