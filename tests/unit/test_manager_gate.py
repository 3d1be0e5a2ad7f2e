"""The manager gate, with the real audit log in a ledger file."""
import pytest

from kiosk.adapters.ledger.audit_store import SqliteAuditLog
from dakoku_core.domain.passwords import hash_password
from dakoku_core.errors import KioskError
from kiosk.services.manager import LOCKOUT_SECONDS, MAX_FAILURES, ManagerGate


class FakeMonotonic:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


@pytest.fixture
def gate(ledger_db):
    clock = FakeMonotonic()
    audit = SqliteAuditLog(ledger_db)
    return ManagerGate(hash_password("2468", n=2**10), audit, clock), audit, clock


def key_of(gate, pin):
    with pytest.raises(KioskError) as info:
        gate.authenticate(pin, "settings")
    return info.value.key


def test_right_pin_is_let_in_and_logged(gate):
    g, audit, _ = gate
    g.authenticate("2468", "settings")
    assert [(a, o) for _, a, o, _ in audit.recent()] == [("settings", "granted")]


def test_wrong_and_empty_pins(gate):
    g, audit, _ = gate
    assert key_of(g, "") == "password_empty"
    assert key_of(g, "1111") == "password_wrong"
    assert [o for _, _, o, _ in audit.recent()] == ["denied"]


def test_lockout_after_repeated_failures_then_recovery(gate):
    g, audit, clock = gate
    for _ in range(MAX_FAILURES):
        assert key_of(g, "1111") == "password_wrong"
    assert key_of(g, "2468") == "manager_locked_out"   # even the right PIN waits
    clock.now += LOCKOUT_SECONDS + 1
    g.authenticate("2468", "settings")
    assert audit.recent(1)[0][2] == "granted"


def test_no_pin_configured(ledger_db):
    g = ManagerGate("", SqliteAuditLog(ledger_db))
    assert key_of(g, "0000") == "manager_pin_not_set"
