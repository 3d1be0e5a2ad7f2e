"""データ更新: the pure schedule, and real pulls from the reference server applied to an on-disk ledger."""
from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest

from dakoku_core.errors import KioskError
from dakoku_server import admin
from kiosk.services.data_update import (
    DataUpdateScheduler, DataUpdateService, RefreshPolicy, in_quiet_hours, is_due, parse_span,
)
from kiosk.services.recorder_api import ClientSlot

pytestmark = pytest.mark.timeout(60)
DAY = datetime(2025, 6, 2)


def at(hour: int, minute: int = 0) -> datetime:
    return DAY.replace(hour=hour, minute=minute)


@pytest.mark.parametrize("now, last_success, last_attempt, due", [
    (at(7, 0), None, None, True),                       # never updated, outside rush hours
    (at(8, 0), None, None, False),                      # 08:00 is inside 08:00-10:00
    (at(9, 59), at(5, 0), at(5, 0), False),
    (at(10, 0), at(7, 59), at(7, 59), True),            # the quiet span ends at 10:00 (exclusive)
    (at(11, 0), at(10, 0), at(10, 0), False),           # one hour since the last update: not yet
    (at(12, 0), at(10, 0), at(10, 0), True),            # two hours
    (at(17, 30), at(12, 0), at(12, 0), False),          # evening rush
    (at(19, 0), at(12, 0), at(12, 0), True),
    (at(13, 0), at(10, 0), at(12, 55), False),          # failed 5 minutes ago: wait 10
    (at(13, 10), at(10, 0), at(13, 0), True),
])
def test_is_due(now, last_success, last_attempt, due):
    assert is_due(now, last_success, last_attempt, RefreshPolicy()) is due


def test_policy_from_server_settings_and_quiet_spans_over_midnight():
    policy = RefreshPolicy.from_settings({"refresh_interval_minutes": 30, "refresh_quiet_hours": ["22:00-02:00"]})
    assert policy.interval == timedelta(minutes=30)
    assert in_quiet_hours(time(23, 0), policy.quiet_hours) and in_quiet_hours(time(1, 59), policy.quiet_hours)
    assert not in_quiet_hours(time(2, 0), policy.quiet_hours)
    assert RefreshPolicy.from_settings({"refresh_quiet_hours": ["nonsense"]}).quiet_hours == RefreshPolicy().quiet_hours
    with pytest.raises(ValueError):
        parse_span("0800")


class CountingStore:
    def __init__(self, inner):
        self.inner, self.applied = inner, []

    def current_version(self):
        return self.inner.current_version()

    def apply(self, snapshot):
        self.applied.append(snapshot)
        self.inner.apply(snapshot)


def test_pull_apply_then_unchanged_then_incremental(sync_server, ledger):
    store = CountingStore(ledger.store)
    service = DataUpdateService(store, ClientSlot(sync_server.demo.client()))
    first = service.update()
    assert first.changed and first.full and first.version == ledger.store.current_version().version
    assert ledger.master.recorder().code == "R001"
    assert ledger.master.employee_by_code_or_login("1001").last_name == "山田"
    assert ledger.master.card_key() is not None and ledger.master.help_departments(
        ledger.master.employee_by_code_or_login("1005").key) == {"HQ"}

    second = service.update()                                      # unchanged ETag: 304, nothing written
    assert (second.changed, len(store.applied)) == (False, 1)

    sync_server.bind()
    demo = admin.company("DEMO")
    admin.add_employee(demo, "1901", "追加", "HQ", "FULL", first_name="三郎")
    admin.delete_help(demo, "1005", "HQ")
    third = service.update()
    assert third.changed and not third.full and third.employees == 2    # 1901, and 1005 whose scope changed
    assert ledger.master.employee_by_code_or_login("1901").display_name == "追加 三郎"
    assert ledger.master.employee_by_code_or_login("1001") is not None     # untouched rows stay
    assert ledger.master.help_departments(ledger.master.employee_by_code_or_login("1005").key) == frozenset()
    admin.delete_employee(demo, "1901")
    service.update()
    assert ledger.master.employee_by_code_or_login("1901") is None


def test_on_demand_offline_is_online_only(sync_server, ledger):
    service = DataUpdateService(ledger.store, ClientSlot(sync_server.demo.client()), is_online=lambda: False)
    with pytest.raises(KioskError) as info:
        service.update_on_demand()
    assert (info.value.key, info.value.message("ja")) == ("online_only", "この機能はオンライン時のみ利用できます")


def test_failed_update_keeps_the_cache_and_says_data_update(sync_server, ledger):
    DataUpdateService(ledger.store, ClientSlot(sync_server.demo.client())).update()
    held = ledger.store.current_version()
    broken = DataUpdateService(ledger.store, ClientSlot(sync_server.demo.client("https://127.0.0.1:9/")))
    with pytest.raises(KioskError) as info:
        broken.update()
    assert (info.value.code, info.value.message("ja")) == ("004", "データの更新に失敗しました")
    assert ledger.store.current_version() == held and ledger.master.recorder().code == "R001"


def test_scheduler_runs_at_start_and_adopts_server_policy(sync_server, ledger):
    results = []
    scheduler = DataUpdateScheduler(DataUpdateService(ledger.store, ClientSlot(sync_server.demo.client())),
                                    now=lambda: at(7), tick=0.05, on_result=results.append)
    scheduler.start()
    try:
        import time as _t
        end = _t.monotonic() + 10
        while not results and _t.monotonic() < end:
            _t.sleep(0.05)
    finally:
        scheduler.stop()
    assert results and results[0].changed
    assert scheduler.policy.interval == timedelta(minutes=120) and scheduler.last_success == at(7)
    assert len(results) == 1          # at 07:00 with a success at 07:00 nothing else is due
