"""Enrolment and deletion go through the server (online only, like cards), with a fake server: the order of the
checks, what is sent, and what stays local when the server refuses."""
from __future__ import annotations

import pytest

from dakoku_core.domain.model import PunchKind
from dakoku_core.errors import KioskError
from dakoku_core.fingerprint.template import FingerprintTemplate

from .fake_server import employee, error_of

pytestmark = pytest.mark.timeout(120)


def test_offline_is_online_only_before_any_capture(fp, server):
    server.online = False
    progress = []
    err = error_of(fp.enrol, employee(fp, "1001"), on_progress=progress.append)
    assert err.key == "online_only" and err.message() == "この機能はオンライン時のみ利用できます"
    assert progress == [] and server.calls == []                    # the manager was never asked for a finger
    assert error_of(fp.available).key == "online_only"
    fp._client = lambda: None                                        # no connection configured at all
    assert error_of(fp.enrol_templates, employee(fp, "1001"), []).key == "online_only"


def test_enrolment_refreshes_registers_then_stores_with_the_servers_version(fp, server, templates, ledger_db):
    fp.sensor.place_when_asked(1, 1, 1, 1)
    result = fp.enrol(employee(fp, "1001"))
    assert server.calls == ["refresh", "register"]                   # fingers from other kiosks first
    sent = server.registered[(employee(fp, "1001").key, result.finger)]
    assert len(sent) == result.sub_templates and all(FingerprintTemplate.from_bytes(b) for b in sent)
    rows = ledger_db.db.execute_sql("SELECT DISTINCT server_version FROM fingerprint_template").fetchall()
    assert rows == [(server.version,)]
    assert fp.store.held_version().version is None                   # a registration is not a pull


def test_local_duplicate_check_comes_first_and_costs_no_round_trip(fp, server, templates):
    fp.enrol_templates(employee(fp, "1001"), templates(1))
    server.calls.clear()
    assert error_of(fp.enrol_templates, employee(fp, "1003"), templates(1, 104)).key == "credential_duplicate"
    assert server.calls == ["refresh"]


@pytest.mark.parametrize("key, context", [("credential_duplicate", {}),
                                          ("credential_registered_to_employee", {"name": "山田 太郎", "code": "1001"})])
def test_the_servers_company_wide_refusal_surfaces_and_nothing_is_stored(fp, server, templates, key, context):
    server.refusal = KioskError(key, context=context)
    err = error_of(fp.enrol_templates, employee(fp, "1003"), templates(2))
    assert err.key == key and err.context == context
    assert fp.store.count() == 0 and fp.store.fingers_of(employee(fp, "1003").key) == set()


def test_delete_finger_on_the_server_then_here(fp, server, templates):
    suzuki = employee(fp, "1003")
    fp.enrol_templates(suzuki, templates(2))
    server.online = False
    assert error_of(fp.delete_finger, suzuki, 0).key == "online_only"
    assert fp.store.fingers_of(suzuki.key) == {0} and "delete" not in server.calls
    server.online = True
    assert fp.delete_finger(suzuki, 0) is True
    assert server.deleted == [(suzuki.key, 0)] and fp.store.fingers_of(suzuki.key) == set()
    assert len(fp.store.gallery()) == 0
    assert fp.delete_finger(suzuki, 0) is False                      # nobody held it any more


def test_a_server_refusing_the_deletion_keeps_the_local_finger(fp, server, templates):
    suzuki = employee(fp, "1003")
    fp.enrol_templates(suzuki, templates(2))
    server.refusal = KioskError("server_error")
    assert error_of(fp.delete_finger, suzuki, 0).key == "server_error"
    assert fp.store.fingers_of(suzuki.key) == {0}


def test_the_offline_demo_seeds_locally_without_a_server(fp, server, templates):
    fp._client = lambda: None
    assert not fp.has_server
    result = fp.enrol_local(employee(fp, "1001"), templates(1))
    assert result.finger == 0 and server.calls == []
    fp.sensor.place_when_asked(1)
    assert fp.punch_with_finger(PunchKind.CLOCK_IN, timeout=5.0).employee.code == "1001"
