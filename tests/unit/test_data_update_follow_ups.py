"""データ更新's follow-up steps (the fingerprint pull, when a sensor is configured): after the master data, also
after a 304, under the same lock; a step's failure is the update's failure, the master data stays applied."""
from __future__ import annotations

import pytest

from dakoku_core.errors import KioskError, Situation
from kiosk.services.data_update import DataUpdateService
from kiosk.ports.recorder_api import MasterVersion


class Store:
    def __init__(self):
        self.applied, self.version = [], MasterVersion()

    def current_version(self):
        return self.version

    def apply(self, snapshot):
        self.applied.append(snapshot)
        self.version = MasterVersion(snapshot.version, "e")


class Snapshot:
    version, full, employees, recorder_settings = 7, True, (), {}
    credentials, deleted, help_registrations = (), (), ()


class Client:
    def __init__(self, *answers):
        self.answers = list(answers)

    def master_data(self, *, since=None, etag=None, situation=None):
        return self.answers.pop(0)


def test_follow_ups_run_after_the_master_data_and_after_a_304():
    store, seen = Store(), []
    client = Client(Snapshot(), None)
    service = DataUpdateService(store, lambda: client)
    service.add_follow_up(lambda situation: seen.append((situation, len(store.applied))) or "pulled")
    result = service.update()
    assert result.changed and result.follow_ups == ("pulled",) and seen == [(Situation.DATA_UPDATE, 1)]
    result = service.update(Situation.REGISTRATION)
    assert not result.changed and result.follow_ups == ("pulled",) and seen[-1] == (Situation.REGISTRATION, 1)


@pytest.mark.parametrize("failure, key", [(KioskError("timeout", situation=Situation.DATA_UPDATE), "timeout"),
                                          (RuntimeError("a bug"), "unexpected")])
def test_a_failing_step_is_the_updates_failure_and_the_master_data_stays(failure, key):
    store = Store()

    def step(_situation):
        raise failure
    announced = []
    service = DataUpdateService(store, lambda: Client(Snapshot()), follow_ups=[step], on_applied=announced.append)
    with pytest.raises(KioskError) as info:
        service.update()
    assert info.value.key == key and info.value.situation is Situation.DATA_UPDATE
    assert len(store.applied) == 1
    assert len(announced) == 1        # the applied master data is announced (e.g. its recorder settings) anyway


def test_the_servers_refresh_settings_apply_even_when_the_fingerprint_pull_after_them_fails():
    from datetime import datetime, timedelta

    from kiosk.services.data_update import DataUpdateScheduler

    class WithSettings(Snapshot):
        recorder_settings = {"refresh_interval_minutes": 30}

    def step(_situation):
        raise KioskError("timeout", situation=Situation.DATA_UPDATE)
    service = DataUpdateService(Store(), lambda: Client(WithSettings()), follow_ups=[step])
    scheduler = DataUpdateScheduler(service, now=datetime.now)
    result = scheduler.run_once()
    assert isinstance(result, KioskError) and result.key == "timeout"
    assert scheduler.policy.interval == timedelta(minutes=30) and scheduler.last_success is None
