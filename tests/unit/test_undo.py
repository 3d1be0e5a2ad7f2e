"""取り消し (issue 12) at the kiosk: the rule, the correction as a ledger row of its own (the punch's row never
changes), and a cancelled punch counting as not made (history, re-authentication interval, sequence warning).
Real SQLite files on disk; the kiosk's own clock on a simulated machine/boot clock."""
from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta, timezone

import pytest

from kiosk.adapters.ledger import SqliteMasterData, SqlitePunchLedger, open_ledger
from kiosk.adapters.ledger.db import MIGRATIONS, SCHEMA_VERSION
from kiosk.adapters.ledger.outbox import SqliteOutbox
from kiosk.adapters.recorder_client import punch_to_wire
from dakoku_core.demo import demo_card, seed_demo
from dakoku_core.domain.model import AuthMethod, Correction, Punch, PunchKind, TimeSource
from dakoku_core.domain.rules import UNDO_GRACE, check_correction
from dakoku_core.errors import KioskError
from dakoku_core.protocol.schemas import CORRECTION
from kiosk.services.clock import KioskClock, MachineClockPort
from kiosk.services.punch import PunchService, SequenceQuestion
from kiosk.services.status import StatusService
from kiosk.services.undo import UndoService

JST = timezone(timedelta(hours=9))
CARD = demo_card("normal").card_id


@pytest.fixture
def kiosk(ledger_db):
    port = MachineClockPort(wall=1_795_000_000.0)
    clock = KioskClock(JST, now=port.wall, monotonic=port.boot)
    master, punches = SqliteMasterData(ledger_db), SqlitePunchLedger(ledger_db)
    seed_demo(master, clock.read().at.date(), {"sequence_warning": True, "reauth_interval_seconds": 30})
    service = PunchService(master, punches, clock)
    undo = UndoService(punches, clock, window_seconds=5, forget=service.forget)
    return port, service, undo, punches, ledger_db


@pytest.mark.parametrize("seconds, ok", [(0, True), (4.9, True), (5 + 2.9, True), (5 + 3.1, False),
                                         (-2.9, True), (-3.1, False)])
def test_the_undo_window_rule(seconds, ok):
    punched = datetime(2026, 12, 1, 9, tzinfo=JST)
    at = punched + timedelta(seconds=seconds)
    if ok:
        check_correction(punched, at, timedelta(seconds=5))
    else:
        with pytest.raises(KioskError) as refused:
            check_correction(punched, at, timedelta(seconds=5))
        assert (refused.value.key, refused.value.cause_letter) == ("correction_refused", "B")
    assert UNDO_GRACE == timedelta(seconds=3)


def _punch(service, kind):
    try:
        return service.punch_with_card(kind, CARD)
    except SequenceQuestion as question:      # 打刻時警告: はい
        return service.confirm(question)


def test_undo_records_a_correction_and_the_employee_punches_the_right_type_at_once(kiosk):
    port, service, undo, punches, ledger_db = kiosk
    wrong = _punch(service, PunchKind.CLOCK_OUT).punch          # meant 出勤, touched 退勤
    before = ledger_db.db.execute_sql("SELECT * FROM punch WHERE uuid = ?", (wrong.uuid,)).fetchone()
    port.run(2)
    correction = undo.cancel(wrong)
    assert (correction.cancels, correction.employee_key) == (wrong.uuid, wrong.employee_key)
    assert correction.stamped_at - wrong.stamped_at == timedelta(seconds=2) and correction.uuid != wrong.uuid
    after = ledger_db.db.execute_sql("SELECT * FROM punch WHERE uuid = ?", (wrong.uuid,)).fetchone()
    assert after == before                                        # never an update of the punch's row
    assert punches.recent_punches(10) == [] and punches.last_punch_at(wrong.employee_key) is None
    port.run(1)
    right = service.punch_with_card(PunchKind.CLOCK_IN, CARD)   # 3 s later: no interval, no sequence question
    assert [p.uuid for p in punches.recent_punches(10)] == [right.punch.uuid]
    assert punches.count() == 2                                   # punches made here; the correction is not one
    batch = SqliteOutbox(ledger_db).pending_batch()
    assert [p.uuid for p in batch] == [wrong.uuid, correction.uuid, right.punch.uuid]   # the order made
    wire = punch_to_wire(batch[1])
    assert wire["kind"] == "cancel" and wire["cancels"] == wrong.uuid
    assert set(wire) <= set(CORRECTION["properties"]) and set(CORRECTION["required"]) <= set(wire)


def test_a_cancelled_punch_no_longer_answers_the_sequence_question(kiosk):
    port, service, undo, punches, _ = kiosk
    first = service.punch_with_card(PunchKind.CLOCK_IN, CARD).punch
    port.run(2)
    undo.cancel(first)
    port.run(40)
    with pytest.raises(SequenceQuestion) as asked:               # 退勤 with no 出勤: the 出勤 was cancelled
        service.punch_with_card(PunchKind.CLOCK_OUT, CARD)
    assert asked.value.missing is PunchKind.CLOCK_IN


def test_undo_is_once_within_the_window_and_for_this_ledgers_punches(kiosk):
    port, service, undo, punches, ledger_db = kiosk
    punched = service.punch_with_card(PunchKind.CLOCK_IN, CARD).punch
    port.run(1)
    first = undo.cancel(punched)
    assert undo.cancel(punched) == first                           # a second tap records nothing more
    rows = ledger_db.db.execute_sql("SELECT COUNT(*) FROM punch WHERE cancels = ?", (punched.uuid,)).fetchone()
    assert rows[0] == 1
    port.run(40)
    late = service.punch_with_card(PunchKind.CLOCK_IN, CARD).punch
    port.run(9)                                                    # 5 s window + 3 s grace has passed
    with pytest.raises(KioskError) as refused:
        undo.cancel(late)
    assert (refused.value.key, refused.value.cause_letter) == ("correction_refused", "B")
    stranger = Punch(employee_key="E-x", kind=PunchKind.CLOCK_IN, stamped_at=late.stamped_at,
                     time_source=TimeSource.NTP, offline=True, auth_method=AuthMethod.CARD, recorder_code="R001")
    with pytest.raises(KioskError) as unknown:
        undo.cancel(stranger)
    assert (unknown.value.key, unknown.value.cause_letter) == ("correction_refused", "A")
    assert punches.correction_for(late.uuid) is None


def test_a_refused_correction_is_listed_with_its_punch_and_reason(kiosk):
    port, service, undo, punches, ledger_db = kiosk
    punched = service.punch_with_card(PunchKind.CLOCK_IN, CARD).punch
    correction = undo.cancel(punched)
    outbox = SqliteOutbox(ledger_db)
    outbox.mark(synced=[punched.uuid], rejected=[(correction.uuid, "correction_refused")])
    status = StatusService(punches, service._master)
    assert status.snapshot(5).refused == 1
    [refused] = status.refused_punches()
    assert (refused.punch, refused.cancel, refused.error_key) == (punched, True, "correction_refused")
    assert refused.mark() == " 取消" and refused.reason("ja") == "打刻を取り消せませんでした"


def _schema_8_ledger(path) -> None:
    """A ledger as the previous release left it: a punch of 山田, synced."""
    with sqlite3.connect(path) as conn:
        for statements in MIGRATIONS[:8]:
            for statement in statements:
                conn.execute(statement)
        conn.execute("PRAGMA user_version = 8")
        conn.execute("INSERT INTO punch (uuid, employee_key, kind, stamped_at_utc, utc_offset_min, time_source, "
                     "offline, auth_method, recorder_code, created_at_utc, seq, master_version, sync_state) VALUES "
                     "('old-1', 'E1', 'clock_in', '2026-11-30T00:00:00.000000Z', 540, 'ntp', 0, 'card', 'R001', "
                     "'2026-11-30T00:00:00.000000Z', 1, 4, 'synced')")


def test_the_previous_schema_migrates_with_its_punches_and_takes_corrections(tmp_path):
    path = tmp_path / "ledger.sqlite3"
    _schema_8_ledger(path)
    ledger = open_ledger(path)
    try:
        assert ledger.db.execute_sql("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 9
        punches = SqlitePunchLedger(ledger)
        old = punches.get("old-1")
        assert (old.kind, old.master_version) == (PunchKind.CLOCK_IN, 4)
        assert punches.last_punch_at("E1") == datetime(2026, 11, 30, 9, tzinfo=JST)
        at = old.stamped_at + timedelta(seconds=3)
        correction = Correction(cancels="old-1", employee_key="E1", stamped_at=at, time_source=TimeSource.NTP,
                                offline=False, recorder_code="R001")
        punches.record_correction(correction, AuthMethod.CARD)
        assert punches.get(correction.uuid) == correction and punches.correction_for("old-1") == correction
        assert punches.last_punch_at("E1") is None and punches.recent_punches(5) == []
        with pytest.raises(KioskError) as twice:                  # one correction per punch: the unique index
            punches.record_correction(Correction(cancels="old-1", employee_key="E1", stamped_at=at,
                                                 time_source=TimeSource.NTP, offline=False, recorder_code="R001"),
                                      AuthMethod.CARD)
        assert twice.value.key == "punch_record_failed"
        assert [p.uuid for p in SqliteOutbox(ledger).pending_batch()] == [correction.uuid]
    finally:
        ledger.close()
