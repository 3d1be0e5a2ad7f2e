"""The ledger at start-up (issue 10 items 11-12): a missing, empty, truncated or malformed ledger is told apart
from a first start, kept aside with its -wal/-shm and reported as 打刻の保存に失敗しました; the write-ahead log
is folded back so a nearly full disk keeps taking punches while the data fits; uploads and "the last punch"
follow the order punches were made, not the machine clock."""
from __future__ import annotations

import os
import random
import shutil
import sqlite3
import subprocess
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from kiosk.adapters.ledger import SqlitePunchLedger
from kiosk.adapters.ledger.audit_store import SqliteAuditLog
from kiosk.adapters.ledger.db import open_ledger, open_ledger_at_start
from kiosk.adapters.ledger.outbox import SqliteOutbox
from kiosk.adapters.ledger.startup import marker_path
from dakoku_core.domain.model import AuthMethod, Punch, PunchKind, TimeSource
from dakoku_core.errors import KioskError, Situation

JST = timezone(timedelta(hours=9))
SAVE_MESSAGE = "打刻の保存に失敗しました。タイムレコーダーを再立ち上げしてもう一度打刻して下さい"


def a_punch(minute: int = 0, **kw) -> Punch:
    values = dict(employee_key="E1", kind=PunchKind.CLOCK_IN,
                  stamped_at=datetime(2026, 11, 25, 9, tzinfo=JST) + timedelta(minutes=minute),
                  time_source=TimeSource.LOCAL, offline=True, auth_method=AuthMethod.CARD, recorder_code="R1")
    values.update(kw)
    return Punch(**values)


def started_ledger(path: Path, punches: int = 300) -> list[str]:
    """A ledger as a kiosk leaves it: created at start (marker), punches recorded, closed."""
    db, error = open_ledger_at_start(path)
    assert error is None
    store = SqlitePunchLedger(db)
    made = [a_punch(i, employee_key=f"E{i % 7}") for i in range(punches)]
    for punch in made:
        store.record(punch)
    db.close()
    return [p.uuid for p in made]


def damaged_start(path: Path) -> tuple[KioskError, list[Path]]:
    db, error = open_ledger_at_start(path)
    try:
        assert error is not None and SqlitePunchLedger(db).count() == 0      # a new, empty ledger ...
        assert SqliteAuditLog(db).recent()[0][1:3] == ("ledger_damaged", "kept_aside")   # ... that says why
    finally:
        db.close()
    assert (error.key, error.variant, error.situation) == ("punch_record_failed", "save", Situation.STARTUP)
    assert error.message() == SAVE_MESSAGE
    return error, sorted(path.parent.glob(f"{path.name}.damaged-*"))


def test_first_start_then_restart_is_no_damage(tmp_path):
    path = tmp_path / "ledger.sqlite3"
    uuids = started_ledger(path, 5)
    assert marker_path(path).exists()
    db, error = open_ledger_at_start(path)
    assert error is None and SqlitePunchLedger(db).count() == len(uuids)
    db.close()


def test_a_ledger_from_before_the_marker_is_adopted(tmp_path):
    path = tmp_path / "ledger.sqlite3"
    open_ledger(path).close()
    db, error = open_ledger_at_start(path)
    db.close()
    assert error is None and marker_path(path).exists()


def test_an_empty_file_without_marker_is_a_first_start(tmp_path):
    path = tmp_path / "ledger.sqlite3"
    path.touch()                                # a crash while the very first ledger was being created
    db, error = open_ledger_at_start(path)
    db.close()
    assert error is None


def test_missing_ledger_of_a_kiosk_that_had_one(tmp_path):
    path = tmp_path / "ledger.sqlite3"
    started_ledger(path, 3)
    path.unlink()
    error, kept = damaged_start(path)
    assert "missing" in error.detail and kept == []


def test_empty_ledger_is_kept_aside(tmp_path):
    path = tmp_path / "ledger.sqlite3"
    started_ledger(path, 3)
    os.truncate(path, 0)
    error, kept = damaged_start(path)
    assert "empty" in error.detail and [k.stat().st_size for k in kept] == [0]
    assert kept[0].name in error.detail


@pytest.mark.parametrize("damage", ["truncated", "punch_page", "index_page", "not_sqlite"])
def test_damaged_ledger_is_kept_aside_with_its_wal(tmp_path, damage):
    path = tmp_path / "ledger.sqlite3"
    started_ledger(path, 300)
    size = path.stat().st_size
    with open(path, "r+b") as handle:
        if damage == "truncated":
            handle.truncate(size // 2)
        elif damage == "not_sqlite":
            handle.write(b"this is not a database" * 10)
        else:
            connection = sqlite3.connect(path)
            table = "punch" if damage == "punch_page" else "punch_employee_seq"
            root = connection.execute("SELECT rootpage FROM sqlite_master WHERE name = ?", (table,)).fetchone()[0]
            connection.close()
            handle.seek((root - 1) * 4096)
            handle.write(random.Random(7).randbytes(4096))
    Path(f"{path}-wal").write_bytes(b"wal bytes")     # a side file goes along with it
    broken = path.read_bytes()
    error, kept = damaged_start(path)
    main = [k for k in kept if not k.name.endswith("-wal") and not k.name.endswith("-shm")]
    assert len(main) == 1 and main[0].read_bytes() == broken
    assert Path(f"{main[0]}-wal").read_bytes() == b"wal bytes"
    assert ("truncated" in error.detail or "malformed" in error.detail)


def test_uploads_and_the_last_punch_follow_the_order_made_not_the_stamp(tmp_path):
    """The machine clock went back an hour between two punches: the later punch has the earlier stamp."""
    db = open_ledger(tmp_path / "l.db")
    try:
        store, outbox = SqlitePunchLedger(db), SqliteOutbox(db)
        first = a_punch(60)
        second = a_punch(1, kind=PunchKind.CLOCK_OUT)          # made after, stamped 59 minutes earlier
        store.record(first)
        store.record(second)
        assert [p.uuid for p in outbox.pending_batch()] == [first.uuid, second.uuid]
        assert store.last_punch_at("E1") == second.stamped_at
    finally:
        db.close()


def test_a_nearly_full_disk_takes_punches_while_the_data_fits(tmp_path):
    """With 1 MiB left, the old 4 MiB write-ahead log refused after 26 punches; now at least 80 % of what the
    data needs fits."""
    mount = tmp_path / "small"
    mount.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(mount)],
                      capture_output=True).returncode != 0:
        pytest.skip("cannot mount a small tmpfs here (needs root and CAP_SYS_ADMIN)")
    try:
        db = open_ledger(mount / "l.db")
        store = SqlitePunchLedger(db)
        for i in range(1000):
            store.record(a_punch(employee_key="E" + uuid.uuid4().hex))
        db.checkpoint()
        per_punch = (mount / "l.db").stat().st_size / 1000
        free = shutil.disk_usage(mount).free
        (mount / "filler").write_bytes(b"\0" * (free - 1024 * 1024))
        free = shutil.disk_usage(mount).free
        accepted = 0
        with pytest.raises(KioskError) as info:
            while True:
                store.record(a_punch(employee_key="E" + uuid.uuid4().hex))
                accepted += 1
        assert info.value.key == "punch_record_failed" and store.count() == 1000 + accepted
        assert accepted * per_punch >= 0.8 * free, (accepted, per_punch, free)
        assert os.path.getsize(mount / "l.db-wal") <= 512 * 1024
        db.close()
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def test_the_kiosk_starts_with_the_error_shown_and_signs_with_its_own_clock(tmp_path):
    from kiosk.app_factory import build_kiosk
    from dakoku_core.protocol import signing
    from kiosk.settings import ReaderSettings, Settings

    settings = Settings(data_dir=tmp_path, reader=ReaderSettings(backend="simulated"))
    kiosk = build_kiosk(settings)
    try:
        assert kiosk.startup_errors == [] or all(e.key != "punch_record_failed" for e in kiosk.startup_errors)
        assert signing._clock == kiosk.clock.epoch
    finally:
        kiosk.close()
    assert signing._clock is __import__("time").time
    os.truncate(settings.ledger_path, 0)
    kiosk = build_kiosk(settings)
    try:
        damage = kiosk.startup_errors[0]
        assert (damage.key, damage.message()) == ("punch_record_failed", SAVE_MESSAGE)
        assert kiosk.punches.count() == 0
    finally:
        kiosk.close()
