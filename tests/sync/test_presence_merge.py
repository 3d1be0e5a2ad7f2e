"""出勤状況's merge, on a real ledger file: offline it is the ledger's view alone; the server's later punch (another
recorder) wins; this kiosk's later unsent punch wins over the server's; the day is the company's day from
midnight JST at 00:30 and at 23:30 JST alike (the machine's UTC date is a different day at both)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from dakoku_core.demo import seed_demo
from dakoku_core.domain.model import AuthMethod, Punch, PunchKind, TimeSource
from dakoku_core.errors import KioskError
from kiosk.services.presence import Presence, PresenceService, business_day_start, merge
from kiosk.ports.recorder_api import LastPunch

JST = timezone(timedelta(hours=9))
EARLY = datetime(2026, 3, 2, 0, 30, tzinfo=JST)     # 2026-03-01 15:30 UTC
LATE = datetime(2026, 3, 2, 23, 30, tzinfo=JST)     # 2026-03-02 14:30 UTC


class FakeApi:
    def __init__(self, answer=(), error: KioskError | None = None):
        self.answer, self.error, self.calls = list(answer), error, 0

    def presence(self, situation=None):
        self.calls += 1
        if self.error:
            raise self.error
        return self.answer


def punch(key: str, kind: PunchKind, at: datetime) -> Punch:
    return Punch(employee_key=key, kind=kind, stamped_at=at, time_source=TimeSource.NTP, offline=True,
                 auth_method=AuthMethod.CARD, recorder_code="R001")


@pytest.fixture
def people(ledger):
    seed_demo(ledger.master, EARLY.date())
    return {e.code: e for e in ledger.master.employees()}


def service(ledger, people, now: datetime, api=None, online=True) -> PresenceService:
    in_scope = [people[c] for c in ("1001", "1002", "1003", "1005")]
    return PresenceService(ledger.master, ledger.punches, lambda: now, lambda: api, is_online=lambda: online,
                           employees=lambda: in_scope)


@pytest.mark.parametrize("now", [EARLY, LATE], ids=["00:30 JST", "23:30 JST"])
def test_offline_the_ledger_alone_counts_from_the_companys_midnight(ledger, people, now):
    yamada, sato = people["1001"].key, people["1002"].key
    ledger.punches.record(punch(yamada, PunchKind.CLOCK_IN, now - timedelta(minutes=40)))   # yesterday at 00:30
    ledger.punches.record(punch(sato, PunchKind.CLOCK_IN, now - timedelta(minutes=20)))
    ledger.punches.record(punch(sato, PunchKind.BREAK_START, now - timedelta(minutes=5)))
    api = FakeApi()
    board = service(ledger, people, now, api, online=False).board()
    assert board.day == now.date() and not board.server_checked and api.calls == 0
    states = {r.employee.code: r.state for r in board.rows}
    expected = {"1002": Presence.ON_BREAK} if now is EARLY else {"1001": Presence.WORKING, "1002": Presence.ON_BREAK}
    assert states == expected
    assert business_day_start(now) == now.replace(hour=0, minute=0)


def test_the_servers_later_punch_wins_and_the_ledgers_later_unsent_punch_wins(ledger, people):
    now = LATE
    yamada, sato, suzuki = people["1001"].key, people["1002"].key, people["1003"].key
    ledger.punches.record(punch(yamada, PunchKind.CLOCK_IN, now - timedelta(hours=9)))
    ledger.punches.record(punch(sato, PunchKind.CLOCK_IN, now - timedelta(hours=8)))
    ledger.punches.record(punch(sato, PunchKind.CLOCK_OUT, now - timedelta(minutes=3)))      # unsent here
    api = FakeApi([
        LastPunch(yamada, PunchKind.CLOCK_OUT, now - timedelta(hours=1), now - timedelta(hours=10), "server"),
        LastPunch(sato, PunchKind.BREAK_END, now - timedelta(hours=2), now - timedelta(hours=8), "server"),
        LastPunch(suzuki, PunchKind.BREAK_START, now - timedelta(minutes=10), None, "server"),
        LastPunch(people["1006"].key, PunchKind.CLOCK_IN, now - timedelta(hours=1), None, "server"),  # not in scope
        LastPunch(people["1005"].key, PunchKind.CLOCK_IN, now - timedelta(hours=24), None, "server"),  # yesterday
    ])
    board = service(ledger, people, now, api).board()
    rows = {r.employee.code: r for r in board.rows}
    assert board.server_checked and set(rows) == {"1001", "1002", "1003"}
    assert (rows["1001"].state, rows["1001"].last.source) == (Presence.LEFT, "server")       # another recorder
    assert rows["1001"].last.clock_in_at == now - timedelta(hours=10)                        # the earlier 出勤
    assert (rows["1002"].state, rows["1002"].last.source) == (Presence.LEFT, "ledger")       # unsent wins
    assert rows["1003"].state is Presence.ON_BREAK
    assert [r.state for r in board.rows] == sorted((r.state for r in board.rows), key=list(Presence).index)
    assert board.counts == {Presence.WORKING: 0, Presence.ON_BREAK: 1, Presence.LEFT: 2}


def test_a_server_failure_leaves_the_ledgers_view_and_says_why(ledger, people):
    now = EARLY
    ledger.punches.record(punch(people["1003"].key, PunchKind.CLOCK_IN, now - timedelta(minutes=10)))
    error = KioskError("connect_failed")
    board = service(ledger, people, now, FakeApi(error=error)).board()
    assert not board.server_checked and board.server_error is error
    assert [(r.employee.code, r.state) for r in board.rows] == [("1003", Presence.WORKING)]


def test_the_same_punch_in_both_views_is_one_punch():
    at = datetime(2026, 3, 2, 9, 0, tzinfo=JST)
    same = merge({"k": LastPunch("k", PunchKind.CLOCK_IN, at, at, "ledger")},
                 {"k": LastPunch("k", PunchKind.CLOCK_IN, at.astimezone(timezone.utc), at, "server")})
    assert same["k"].source == "ledger" and same["k"].clock_in_at == at
