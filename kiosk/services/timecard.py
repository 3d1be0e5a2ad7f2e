"""タイムカード / 出勤状況: who tapped a card, or who was chosen from the list (or typed their login ID or
employee code) and then gave their password → a short-lived link from the server → the browser. A timecard is
personal: choosing a name alone opens nothing; the password is checked as for パスワード認証 (same permission,
same lock-out). Online only: the timecard lives on the server."""
from __future__ import annotations

from typing import Callable

from dakoku_core.domain.credentials import card_ref
from dakoku_core.domain.model import AuthMethod, Employee
from dakoku_core.domain.passwords import verify_password
from dakoku_core.errors import KioskError, Situation
from kiosk.ports import Browser, ClientProvider, MasterData
from kiosk.services.punch import PasswordGuard

BROWSER = Situation.BROWSER


class TimecardService:
    def __init__(self, master: MasterData, client: ClientProvider, browser: Browser, *,
                 is_online: Callable[[], bool] = lambda: True, guard: PasswordGuard | None = None):
        self._master = master
        self._client = client
        self._browser = browser
        self._is_online = is_online
        self._guard = guard or PasswordGuard()

    def open_for_card(self, card_id: str) -> Employee:
        key = self._master.card_key()
        employee = None
        if key is not None:
            try:
                employee = self._master.employee_by_credential(AuthMethod.CARD, card_ref(key, card_id))
            except ValueError:
                employee = None
        if employee is None:
            raise KioskError("auth_failed", situation=BROWSER, cause_letter="A", credential="card",
                             detail="card not registered")
        self.open_for(employee)
        return employee

    def find(self, login_or_code: str) -> Employee:
        """Step one of the selection path: the employee chosen or typed, if they may use a password."""
        if not login_or_code.strip():
            raise KioskError("login_id_empty", situation=BROWSER)
        employee = self._master.employee_by_code_or_login(login_or_code)
        if employee is None:
            raise KioskError("employee_not_found", situation=BROWSER)
        if not employee.password_punch_allowed:
            raise KioskError("password_punch_not_allowed", situation=BROWSER)
        return employee

    def open_with_password(self, login_or_code: str, password: str) -> Employee:
        employee = self.find(login_or_code)
        if not password:
            raise KioskError("password_empty", situation=BROWSER)
        self._guard.check(employee.key, BROWSER)
        if not employee.password_hash or not verify_password(password, employee.password_hash):
            self._guard.failed(employee.key)
            raise KioskError("password_wrong", situation=BROWSER)
        self._guard.succeeded(employee.key)
        self.open_for(employee)
        return employee

    def open_for(self, employee: Employee) -> None:
        client = self._client()
        if client is None:   # no connection configured; otherwise the request decides (docs/errors.md)
            raise KioskError("online_only", situation=BROWSER, detail="no connection configured")
        self._browser.open(client.timecard_url(employee.key, situation=BROWSER))
