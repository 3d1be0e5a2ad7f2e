"""A finger that matched nobody here: cause C only when the server says it knows it for another department's
employee; offline, or when the question fails, cause A (the kiosk cannot know). The real ledger, sensor, extractor
and matcher; the fake server of tests/fingerprint (the real one: tests/sync/test_finger_cause_c.py)."""
from __future__ import annotations

import pytest

from dakoku_core.domain.model import PunchKind
from dakoku_core.errors import KioskError

from .fake_server import employee, error_of

pytestmark = pytest.mark.timeout(120)


def place(fp, finger: int) -> None:
    """A finger on the sensor for the next capture (``place_when_asked`` where only fresh presses count)."""
    (getattr(fp.sensor, "place_when_asked", None) or fp.sensor.place_finger)(finger)


def unmatched(fp, templates) -> KioskError:
    fp.enrol_templates(employee(fp, "1001"), templates(1))
    place(fp, 2)                                     # finger 2: enrolled for nobody this kiosk holds
    return error_of(fp.punch_with_finger, PunchKind.CLOCK_IN, timeout=5.0)


def test_the_server_knows_it_for_another_department_cause_c(fp, server, templates):
    server.outside_scope = True
    err = unmatched(fp, templates)
    assert (err.key, err.cause_letter) == ("auth_failed", "C")
    assert server.calls[-1] == "identify"


def test_the_server_does_not_know_it_cause_a(fp, server, templates):
    err = unmatched(fp, templates)
    assert (err.key, err.cause_letter, server.calls[-1]) == ("auth_failed", "A", "identify")


def test_offline_the_kiosk_does_not_ask_and_says_a(fp, server, templates):
    fp.enrol_templates(employee(fp, "1001"), templates(1))
    server.online, server.outside_scope = False, True
    place(fp, 2)
    err = error_of(fp.punch_with_finger, PunchKind.CLOCK_IN, timeout=5.0)
    assert (err.key, err.cause_letter) == ("auth_failed", "A") and "identify" not in server.calls


def test_a_failed_question_says_a(fp, server, templates):
    server.outside_scope = True
    fp.enrol_templates(employee(fp, "1001"), templates(1))
    server.refusal = KioskError("server_unreachable")
    place(fp, 2)
    err = error_of(fp.punch_with_finger, PunchKind.CLOCK_IN, timeout=5.0)
    assert (err.key, err.cause_letter) == ("auth_failed", "A")


def test_a_matched_finger_never_asks(fp, server, templates):
    fp.enrol_templates(employee(fp, "1001"), templates(1))
    place(fp, 1)
    assert fp.punch_with_finger(PunchKind.CLOCK_IN, timeout=5.0).employee.code == "1001"
    assert "identify" not in server.calls


def test_two_factor_for_another_departments_employee_is_c(fp, server, templates):
    fp.enrol_templates(employee(fp, "1001"), templates(1))
    probe = fp._matcher.encode(templates(3)[0])
    err = error_of(fp.punch_verified, PunchKind.CLOCK_IN, probe, employee(fp, "1006"))   # 伊藤, 店舗
    assert (err.key, err.cause_letter) == ("auth_failed", "C")
    assert "identify" not in server.calls            # named by code: no biometric question needed
