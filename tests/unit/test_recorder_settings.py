"""One set of rules: the server's recorder settings (one shared default for each) applied at the kiosk, the
sequence warning (打刻時警告) as a pure rule and in the punch service, and refused punches in the status."""
from __future__ import annotations

import pytest

from kiosk.adapters.ledger import SqliteMasterData, SqlitePunchLedger, open_ledger
from kiosk.adapters.ledger.outbox import SqliteOutbox
from dakoku_core.demo import demo_card, seed_demo
from dakoku_core.domain.model import AuthMethod, PunchKind
from dakoku_core.domain.rules import missing_before
from dakoku_core.errors import KioskError
from dakoku_core.protocol.recorder_settings import DEFAULTS, RecorderSettings, defaults
from kiosk.services.punch import PunchService, SequenceQuestion
from kiosk.services.status import StatusService

IN, OUT, B_START, B_END = PunchKind.CLOCK_IN, PunchKind.CLOCK_OUT, PunchKind.BREAK_START, PunchKind.BREAK_END
YAMADA = demo_card("normal").card_id


@pytest.fixture
def kiosk(ledger_db, clock):
    """The demo company in a real ledger file, judged by whatever recorder settings the test applies."""
    master, punches = SqliteMasterData(ledger_db), SqlitePunchLedger(ledger_db)
    seed_demo(master, clock.at.date())
    return master, punches, PunchService(master, punches, clock)


def apply(master, clock, **settings) -> None:
    """A データ更新 bringing these recorder settings (the rest: the server's defaults)."""
    seed_demo(master, clock.at.date(), recorder_settings={**defaults(), **settings})


def question_of(fn, *args) -> SequenceQuestion:
    with pytest.raises(SequenceQuestion) as info:
        fn(*args)
    return info.value


# -- one value for every setting -------------------------------------------------------------------
def test_server_and_kiosk_share_one_default_for_every_setting():
    from dakoku_server.recorders import DEFAULT_SETTINGS

    assert DEFAULT_SETTINGS == defaults() == RecorderSettings().as_dict()
    assert DEFAULTS["reauth_interval_seconds"] == 60 and DEFAULTS["sequence_warning"] is True


def test_malformed_or_unknown_server_values_keep_the_default():
    settings = RecorderSettings.from_dict({"reauth_interval_seconds": "30", "break_labels": "nap",
                                           "sequence_warning": 1, "show_punch_history": False, "newer": 1})
    assert settings == RecorderSettings(show_punch_history=False)


def test_a_never_synced_kiosk_uses_the_server_defaults(kiosk, clock):
    master, _, service = kiosk
    assert master.recorder_settings() == RecorderSettings()
    service.punch_with_card(IN, YAMADA)
    clock.advance(seconds=45)
    assert pytest.raises(KioskError, service.punch_with_card, OUT, YAMADA).value.key == "already_punched"


@pytest.mark.parametrize("interval, second_is_refused", [(60, True), (30, False), (0, False)])
def test_the_reauth_interval_is_the_servers(kiosk, clock, interval, second_is_refused):
    master, punches, service = kiosk
    apply(master, clock, reauth_interval_seconds=interval)
    service.punch_with_card(IN, YAMADA)
    clock.advance(seconds=45)
    if second_is_refused:
        error = pytest.raises(KioskError, service.punch_with_card, B_START, YAMADA).value
        assert error.key == "already_punched" and error.message("ja") == "既に打刻受け付け済みです"
        assert punches.count() == 1
    else:
        service.punch_with_card(B_START, YAMADA)
        assert punches.count() == 2


def test_applied_settings_survive_a_restart_and_work_offline(tmp_path, clock):
    db = open_ledger(tmp_path / "l.sqlite3")
    seed_demo(SqliteMasterData(db), clock.at.date(),
              recorder_settings={"reauth_interval_seconds": 10, "break_labels": "outing", "sequence_warning": False})
    db.close()
    db = open_ledger(tmp_path / "l.sqlite3")
    try:
        held = SqliteMasterData(db).recorder_settings()
        assert (held.reauth_interval_seconds, held.break_labels, held.sequence_warning) == (10, "outing", False)
        seed_demo(SqliteMasterData(db), clock.at.date())   # data without settings (the demo seed) keeps them
        assert SqliteMasterData(db).recorder_settings().break_labels == "outing"
    finally:
        db.close()


# -- 打刻時警告: the rule -------------------------------------------------------------------------------
@pytest.mark.parametrize("earlier, kind, missing", [
    ([], IN, None),
    ([], OUT, IN),                        # 退勤 with no 出勤
    ([], B_START, IN),                    # 休憩開始 with no 出勤
    ([], B_END, B_START),                 # 休憩終了 with no 休憩開始
    ([IN], OUT, None),
    ([IN], B_START, None),
    ([IN], B_END, B_START),               # 休憩終了 with no 休憩開始
    ([IN], IN, OUT),                      # 出勤 twice
    ([IN, B_START], B_END, None),
    ([IN, B_START], OUT, B_END),          # 退勤 during a break
    ([IN, B_START], B_START, B_END),
    ([IN, B_START], IN, B_END),
    ([IN, B_START, B_END], OUT, None),
    ([IN, B_START, B_END], B_START, None),   # a second break
    ([IN, OUT], IN, None),                # a second shift
    ([IN, OUT], OUT, IN),
    ([OUT], B_START, IN),                 # an out-of-order punch still moves the day's state
])
def test_sequence_rule_table(earlier, kind, missing):
    assert missing_before(kind, earlier) is missing


# -- 打刻時警告: in the punch service ---------------------------------------------------------------------
def test_clock_out_without_clock_in_asks_and_records_nothing(kiosk, clock):
    _, punches, service = kiosk
    question = question_of(service.punch_with_card, OUT, YAMADA)
    assert question.key == "sequence_warning" and (question.missing, question.kind) == (IN, OUT)
    assert question.message("ja") == "『出勤』の記録がありません。『退勤』処理を行ってよろしいですか？"
    assert punches.count() == 0
    service.decline(question)
    assert punches.count() == 0
    with pytest.raises(KioskError):
        service.confirm(question)   # declined: it cannot be recorded later
    assert punches.count() == 0


def test_yes_records_the_punch_at_the_time_it_was_asked_and_only_once(kiosk, clock):
    _, punches, service = kiosk
    question = question_of(service.punch_with_card, B_END, YAMADA)
    asked_at = clock.at
    clock.advance(seconds=5)   # the person reads the question
    result = service.confirm(question)
    assert result.punch.kind is B_END and result.punch.stamped_at == asked_at and punches.count() == 1
    assert pytest.raises(KioskError, service.confirm, question).value.key == "already_punched"
    assert punches.count() == 1


def test_yes_still_obeys_the_reauth_interval(kiosk, clock):
    master, punches, service = kiosk
    question = question_of(service.punch_with_card, OUT, YAMADA)
    employee = master.employee_by_code_or_login("1001")
    # meanwhile the same employee's punch is recorded another way (the question does not lock the ledger)
    service.punch_identified(employee, IN, AuthMethod.FINGERPRINT)
    assert pytest.raises(KioskError, service.confirm, question).value.key == "already_punched"
    assert punches.count() == 1


def test_punches_that_follow_are_not_asked_about_and_a_day_is_24_hours(kiosk, clock):
    _, punches, service = kiosk
    for kind in (IN, B_START, B_END, OUT):
        service.punch_with_card(kind, YAMADA)
        clock.advance(minutes=90)
    clock.advance(hours=24)
    question_of(service.punch_with_card, OUT, YAMADA)   # yesterday's 出勤 is not today's
    assert punches.count() == 4


def test_the_warning_off_on_the_server_records_at_once(kiosk, clock):
    master, punches, service = kiosk
    apply(master, clock, sequence_warning=False)
    service.punch_with_card(OUT, YAMADA)
    assert punches.count() == 1


def test_the_question_names_the_break_pair_as_the_server_does(kiosk, clock):
    master, _, service = kiosk
    apply(master, clock, break_labels="outing")
    question = question_of(service.punch_with_card, B_END, YAMADA)
    assert question.message("ja") == "『外出開始』の記録がありません。『外出終了』処理を行ってよろしいですか？"


def test_password_punches_are_asked_too(kiosk, clock):
    from dakoku_core.demo import DEMO_PASSWORD

    _, punches, service = kiosk
    question = question_of(service.punch_with_password, OUT, "sato", DEMO_PASSWORD)
    assert question.method is AuthMethod.PASSWORD and punches.count() == 0
    assert service.confirm(question).punch.auth_method is AuthMethod.PASSWORD


def test_a_punch_refused_at_sync_is_not_part_of_the_day(kiosk, ledger_db, clock):
    _, punches, service = kiosk
    clock_in = service.punch_with_card(IN, YAMADA).punch
    SqliteOutbox(ledger_db).mark(rejected=[(clock_in.uuid, "after_retirement")])
    clock.advance(hours=8)
    question_of(service.punch_with_card, OUT, YAMADA)


# -- refused punches in the status -------------------------------------------------------------------------
def test_refused_punches_are_counted_and_listed_with_their_reason(kiosk, ledger_db, clock):
    master, punches, service = kiosk
    status = StatusService(punches, master)
    first = service.punch_with_card(IN, YAMADA).punch
    clock.advance(minutes=5)
    second = service.punch_with_card(IN, demo_card("normal", 1).card_id).punch
    assert status.snapshot(0).refused == 0 and status.refused_punches() == []
    SqliteOutbox(ledger_db).mark(synced=[second.uuid], rejected=[(first.uuid, "after_retirement")])
    assert status.snapshot(0).refused == 1 and status.snapshot(0).unsent == 0
    [refused] = status.refused_punches()
    assert (refused.punch.uuid, refused.name, refused.error_key) == (first.uuid, "山田 太郎", "after_retirement")
    assert refused.reason("ja") == KioskError("after_retirement").message("ja")
