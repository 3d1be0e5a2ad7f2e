"""タイムカード by selection (no card): the employee's password, with パスワード認証's permission and lock-out."""
import pytest

from dakoku_core.domain.model import PunchKind
from dakoku_core.errors import KioskError, Situation
from kiosk.services.punch import PasswordGuard, PunchService
from kiosk.services.timecard import TimecardService


class FakeClient:
    def timecard_url(self, employee_key, situation=None):
        return f"https://server.example/timecard/{employee_key}"


class RecordingBrowser:
    def __init__(self):
        self.urls = []

    def open(self, url):
        self.urls.append(url)


@pytest.fixture
def timecard(demo_kiosk, clock):
    master, punches, _ = demo_kiosk
    guard, browser = PasswordGuard(), RecordingBrowser()
    service = TimecardService(master, lambda: FakeClient(), browser, guard=guard)
    return service, browser, PunchService(master, punches, clock, guard=guard)


def error_of(fn, *args) -> KioskError:
    with pytest.raises(KioskError) as caught:
        fn(*args)
    return caught.value


def test_the_chosen_employee_with_the_right_password_opens_the_timecard(timecard):
    service, browser, _ = timecard
    for who in ("1002", "sato"):
        assert service.open_with_password(who, "1234").code == "1002"
    assert browser.urls == ["https://server.example/timecard/E1002"] * 2


@pytest.mark.parametrize("who, password, key", [
    ("", "1234", "login_id_empty"), ("9999", "1234", "employee_not_found"),
    ("1001", "1234", "password_punch_not_allowed"),      # 山田 has no password punching
    ("1002", "", "password_empty"), ("1002", "9999", "password_wrong"),
])
def test_selection_errors_are_the_browser_situation(timecard, who, password, key):
    service, browser, _ = timecard
    error = error_of(service.open_with_password, who, password)
    assert (error.key, error.situation) == (key, Situation.BROWSER)
    assert browser.urls == []


def test_wrong_passwords_at_the_timecard_lock_password_punching_too(timecard):
    service, browser, punch_service = timecard
    for _ in range(PasswordGuard.MAX_FAILURES):
        error_of(service.open_with_password, "1002", "0000")
    locked = error_of(service.open_with_password, "1002", "1234")
    assert (locked.key, locked.situation) == ("password_locked_out", Situation.BROWSER)
    assert error_of(punch_service.punch_with_password, PunchKind.CLOCK_IN, "1002", "1234").key == "password_locked_out"
    assert browser.urls == []
