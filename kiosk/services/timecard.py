"""タイムカード / 出勤状況: who tapped (card) or typed (code + password) → a short-lived link from the
server → the default browser. Online only: the timecard lives on the server."""
from __future__ import annotations

from typing import Callable, Protocol

from kiosk.domain.credentials import card_ref
from kiosk.domain.model import AuthMethod, Employee
from kiosk.errors import KioskError, Situation
from kiosk.ports import MasterData

BROWSER = Situation.BROWSER


class Browser(Protocol):
    def open(self, url: str) -> None: ...


class TimecardService:
    def __init__(self, master: MasterData, client: Callable[[], object], browser: Browser, *,
                 is_online: Callable[[], bool] = lambda: True):
        self._master = master
        self._client = client
        self._browser = browser
        self._is_online = is_online

    def open_for_card(self, card_id: str) -> Employee:
        key = self._master.card_key()
        employee = None
        if key is not None:
            try:
                employee = self._master.employee_by_credential(AuthMethod.CARD, card_ref(key, card_id))
            except ValueError:
                employee = None
        if employee is None:
            raise KioskError("auth_failed", situation=BROWSER, cause_letter="A", detail="card not registered")
        self.open_for(employee)
        return employee

    def open_for(self, employee: Employee) -> None:
        client = self._client()
        if client is None:   # no connection configured; otherwise the request decides (docs/errors.md)
            raise KioskError("online_only", situation=BROWSER, detail="no connection configured")
        self._browser.open(client.timecard_url(employee.key, situation=BROWSER))
