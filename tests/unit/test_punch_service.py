"""The punch use case through the real SQLite ledger: every rule raises its catalogue error."""
from __future__ import annotations

import pytest

from dakoku_core.demo import DEMO_PASSWORD, demo_card
from dakoku_core.domain.model import AuthMethod, PunchKind, TimeSource
from dakoku_core.errors import KioskError
from datetime import timedelta, timezone

class _Cards(dict):
    """CARD["normal"], CARD["retired"]... (the demo card with that role)."""

    def __missing__(self, role):
        return demo_card(role).card_id


CARD = _Cards()


def error_of(fn, *args) -> KioskError:
    with pytest.raises(KioskError) as info:
        fn(*args)
    return info.value


def test_card_punch_is_recorded_with_source_and_offline_flag(demo_kiosk, clock):
    master, punches, service = demo_kiosk
    result = service.punch_with_card(PunchKind.CLOCK_IN, CARD["normal"])
    assert result.employee.code == "1001"
    assert result.greeting_key == "greeting.morning"
    stored = punches.get(result.punch.uuid)
    assert stored == result.punch
    assert stored.stamped_at == clock.at and stored.time_source is TimeSource.LOCAL
    assert stored.offline is True and stored.auth_method is AuthMethod.CARD
    assert punches.pending_summary() == (1, clock.at)


def test_card_id_is_normalised_before_lookup(demo_kiosk):
    _, _, service = demo_kiosk
    spaced = " ".join(demo_card("normal", 1).card_id[i:i + 2] for i in range(0, 16, 2)).lower()
    assert service.punch_with_card(PunchKind.CLOCK_IN, spaced).employee.code == "1003"


def test_unregistered_card_fails_authentication_cause_a(demo_kiosk):
    err = error_of(demo_kiosk[2].punch_with_card, PunchKind.CLOCK_IN, CARD["unknown"])
    assert (err.key, err.cause_letter, err.message()) == ("auth_failed", "A", "認証に失敗しました")


@pytest.mark.parametrize("role, kind, key, letter", [
    ("retired", PunchKind.CLOCK_IN, "after_retirement", None),
    ("not_hired", PunchKind.CLOCK_IN, "before_hire_date", None),
    ("no_break", PunchKind.BREAK_START, "break_not_allowed", None),
    ("no_break", PunchKind.BREAK_END, "break_not_allowed", None),
    ("other_department", PunchKind.CLOCK_IN, "auth_failed", "C"),
])
def test_rule_violations(demo_kiosk, role, kind, key, letter):
    _, punches, service = demo_kiosk
    err = error_of(service.punch_with_card, kind, CARD[role])
    assert (err.key, err.cause_letter) == (key, letter)
    assert punches.count() == 0


def test_help_registration_allows_other_department(demo_kiosk):
    assert demo_kiosk[2].punch_with_card(PunchKind.CLOCK_IN, CARD["help"]).employee.code == "1005"


def test_no_break_employee_may_clock_in(demo_kiosk):
    assert demo_kiosk[2].punch_with_card(PunchKind.CLOCK_IN, CARD["no_break"]).employee.code == "1004"


def test_reauthentication_interval(demo_kiosk, clock):
    _, punches, service = demo_kiosk
    service.punch_with_card(PunchKind.CLOCK_IN, CARD["normal"])
    clock.advance(seconds=29)
    err = error_of(service.punch_with_card, PunchKind.CLOCK_OUT, CARD["normal"])
    assert err.key == "already_punched" and err.message() == "既に打刻受け付け済みです"
    service.punch_with_card(PunchKind.CLOCK_IN, demo_card("normal", 1).card_id)  # someone else is not blocked
    clock.advance(seconds=2)
    service.punch_with_card(PunchKind.CLOCK_OUT, CARD["normal"])
    assert punches.count() == 3


def test_clock_being_adjusted_refuses_punch_cause_b(demo_kiosk, clock):
    clock.adjusting = True
    err = error_of(demo_kiosk[2].punch_with_card, PunchKind.CLOCK_IN, CARD["normal"])
    assert (err.key, err.cause_letter) == ("auth_failed", "B")
    assert demo_kiosk[1].count() == 0


def test_password_punch(demo_kiosk):
    _, _, service = demo_kiosk
    result = service.punch_with_password(PunchKind.CLOCK_IN, "sato", DEMO_PASSWORD)   # by login ID
    assert result.punch.auth_method is AuthMethod.PASSWORD


@pytest.mark.parametrize("login, password, key", [
    ("", "x", "login_id_empty"),
    ("   ", "x", "login_id_empty"),
    ("9999", "x", "employee_not_found"),
    ("1002", "", "password_empty"),
    ("1002", "0000", "password_wrong"),
    ("1001", DEMO_PASSWORD, "password_punch_not_allowed"),
])
def test_password_errors(demo_kiosk, login, password, key):
    _, punches, service = demo_kiosk
    assert error_of(service.punch_with_password, PunchKind.CLOCK_IN, login, password).key == key
    assert punches.count() == 0


def test_greetings_follow_kind_and_time(demo_kiosk, clock):
    _, _, service = demo_kiosk
    clock.advance(hours=4)
    assert service.punch_with_card(PunchKind.CLOCK_IN, demo_card("normal", 1).card_id).greeting_key == "greeting.hello"
    question = error_of(service.punch_with_card, PunchKind.BREAK_START, CARD["normal"])   # no 出勤 of theirs
    assert service.confirm(question).greeting_key == "greeting.break_start"


def test_missing_master_data_is_008(ledger_db, clock):
    from kiosk.adapters.ledger import SqliteMasterData, SqlitePunchLedger
    from kiosk.services.punch import PunchService

    service = PunchService(SqliteMasterData(ledger_db), SqlitePunchLedger(ledger_db), clock)
    err = error_of(service.punch_with_card, PunchKind.CLOCK_IN, "0123")
    assert (err.key, err.code) == ("startup_data_missing", "008")


def test_hire_and_retirement_days_themselves_are_allowed(ledger_db, clock):
    from dataclasses import replace
    from datetime import date

    from kiosk.adapters.ledger import SqliteMasterData, SqlitePunchLedger
    from dakoku_core.demo import DEMO_CARD_KEY, RECORDER
    from dakoku_core.domain.credentials import card_ref
    from dakoku_core.domain.model import Credential, Department, Employee, EmploymentType
    from kiosk.services.punch import PunchService

    today = clock.at.date()
    base = Employee(key="E1", code="1", last_name="境", first_name="界", department_code="HQ",
                    employment_type_code="FT")
    people = [replace(base, key="H", code="H", hired_on=today), replace(base, key="R", code="R", retired_on=today),
              replace(base, key="L", code="L", retired_on=date.fromordinal(today.toordinal() - 1))]
    master = SqliteMasterData(ledger_db)
    master.replace_all(employees=people, departments=[Department("HQ", "本社")],
                       employment_types=[EmploymentType("FT", "正社員")], help_registrations=[],
                       credentials=[Credential(p.key, AuthMethod.CARD, card_ref(DEMO_CARD_KEY, f"0{i}"))
                                    for i, p in enumerate(people)], recorder=RECORDER, card_key=DEMO_CARD_KEY)
    service = PunchService(master, SqlitePunchLedger(ledger_db), clock)
    assert service.punch_with_card(PunchKind.CLOCK_IN, "00").employee.key == "H"
    assert service.punch_with_card(PunchKind.CLOCK_IN, "01").employee.key == "R"
    assert error_of(service.punch_with_card, PunchKind.CLOCK_IN, "02").key == "after_retirement"


def test_local_day_not_utc_day_decides_retirement(demo_kiosk, clock):
    """00:30 JST is still the previous day in UTC: the rules must use the kiosk's local date."""
    from datetime import datetime

    master, _, service = demo_kiosk
    retired_on = master.employee("E1007").retired_on
    clock.at = datetime.combine(retired_on, datetime.min.time(), clock.at.tzinfo) + timedelta(days=1, minutes=30)
    assert clock.at.astimezone(timezone.utc).date() == retired_on   # UTC says: still the last day
    assert error_of(service.punch_with_card, PunchKind.CLOCK_OUT, CARD["retired"]).key == "after_retirement"


def test_two_threads_tapping_the_same_card_record_one_punch(demo_kiosk):
    import threading

    _, punches, service = demo_kiosk
    outcomes, start = [], threading.Barrier(4)

    def tap():
        start.wait()
        try:
            service.punch_with_card(PunchKind.CLOCK_IN, CARD["normal"])
            outcomes.append("ok")
        except KioskError as err:
            outcomes.append(err.key)

    threads = [threading.Thread(target=tap) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert sorted(outcomes) == ["already_punched"] * 3 + ["ok"]
    assert punches.count() == 1


def test_password_lockout_after_five_wrong_tries(demo_kiosk):
    _, _, service = demo_kiosk
    for _ in range(5):
        assert error_of(service.punch_with_password, PunchKind.CLOCK_IN, "1002", "0000").key == "password_wrong"
    err = error_of(service.punch_with_password, PunchKind.CLOCK_IN, "1002", DEMO_PASSWORD)
    assert err.key == "password_locked_out" and "(あと60秒)" in err.message()   # counts down in the dialog
