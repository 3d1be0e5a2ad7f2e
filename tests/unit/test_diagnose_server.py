"""自己診断's server checks: one signed GET /v1/time tells reachability, certificate, IP allow-list and clock."""
from types import SimpleNamespace

import pytest

from dakoku_core.errors import KioskError
from kiosk.services.diagnose import server_checks


class Client:
    def __init__(self, error=None, offset=0.0):
        self.error, self.offset = error, offset

    def server_time(self, situation=None):
        if self.error:
            raise KioskError(self.error)
        return SimpleNamespace(offset=self.offset)


def outcomes(lines):
    return {line.name: line.outcome for line in lines}


def test_all_good_and_the_clock_difference_is_reported():
    lines = server_checks(Client(offset=12.5), kiosk_offset=12.0)
    assert set(outcomes(lines).values()) == {"ok"}
    assert lines[-1].detail == "+0.5 秒"


@pytest.mark.parametrize("key, failed, remedy", [
    ("connect_failed", "server", "connect_failed"),
    ("timeout", "server", "timeout"),
    ("certificate_invalid", "certificate", "certificate_invalid"),
    ("ip_not_allowed", "ip_allow", "ip_not_allowed"),
])
def test_a_failure_is_attributed_to_its_check(key, failed, remedy):
    lines = server_checks(Client(error=key), kiosk_offset=0)
    result = outcomes(lines)
    assert result[failed] == "fail" and [l.remedy_key for l in lines if l.name == failed] == [remedy]
    assert result["clock_offset"] == "skipped"


@pytest.mark.parametrize("offset, shown", [(-0.04, "+0.0 秒"), (0.04, "+0.0 秒"), (-0.06, "-0.1 秒")])
def test_a_clock_in_step_reads_plus_zero_not_minus_zero(offset, shown):
    assert server_checks(Client(offset=offset), kiosk_offset=0.0)[-1].detail == shown


def test_a_clock_off_by_minutes_fails():
    lines = server_checks(Client(offset=300.0), kiosk_offset=0.0)
    assert outcomes(lines)["clock_offset"] == "fail"


def test_no_connection_skips_the_server_checks():
    assert set(outcomes(server_checks(None, 0.0)).values()) == {"skipped"}
