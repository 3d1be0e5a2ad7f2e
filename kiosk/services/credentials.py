"""設定 › 認証情報 (issue 12, item 6): which cards and fingers an employee has registered, and deleting any of them
without the card itself (a lost card). No Kivy.

The list comes from the server (``GET /v1/employees/<key>/credentials``): it knows when and by which recorder each
card was registered, also on other kiosks. A card is shown masked by the last characters of the server's card
reference (a keyed hash: neither the server nor the kiosk keeps the card ID). Only employees of this recorder's
scope are offered (own department + help-registered here), and the server checks the scope again.
Deleting asks the server first; only once it has deleted does the kiosk drop the card (or finger) from its own
cache, at once, and pull the change (データ更新) so the tombstone is applied the usual way too. Offline, or when the
server cannot be reached, the catalogue error is raised and nothing changes.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Callable

from dakoku_core.domain.model import AuthMethod, Employee
from dakoku_core.errors import Situation
from kiosk.ports import CardCache, ClientProvider, CredentialsApi, FingerCache, MasterData
from kiosk.ports.recorder_api import EmployeeCredentials, RegisteredCard
from kiosk.services.recorder_api import online_client

REG = Situation.REGISTRATION
MASK_CHARS = 4


class CredentialsService:
    def __init__(self, master: MasterData, cards: CardCache, client: ClientProvider, *,
                 is_online: Callable[[], bool], refresh: Callable[[], object],
                 fingers: Callable[[], FingerCache | None] = lambda: None):
        self._master, self._cards, self._client = master, cards, client
        self._is_online, self._refresh, self._fingers = is_online, refresh, fingers

    def employees(self) -> list[Employee]:
        """The employees this recorder may act on: its department's and those help-registered into it."""
        recorder = self._master.recorder()
        if recorder is None:
            return []
        department = recorder.department_code
        return [e for e in self._master.employees()
                if e.department_code == department or department in self._master.help_departments(e.key)]

    def available(self) -> None:
        """Refused at once while offline (「この機能はオンライン時のみ利用できます」)."""
        self._api()

    def list_for(self, employee: Employee) -> EmployeeCredentials:
        listed = self._api().employee_credentials(employee.key, situation=REG)
        return EmployeeCredentials(employee, listed.cards, listed.fingers)

    def delete_card(self, employee: Employee, card: RegisteredCard) -> bool:
        """True when the server deleted it; False when it was already gone (deleted elsewhere)."""
        deleted = self._api().delete_employee_card(employee.key, card.ref, situation=REG)
        holder = self._master.employee_by_credential(AuthMethod.CARD, card.ref)
        if holder is not None and holder.key == employee.key:
            self._cards.drop_credential(AuthMethod.CARD, card.ref)   # it stops punching now, not at the next pull
        self._refresh()
        return deleted

    def delete_finger(self, employee: Employee, finger: int) -> bool:
        deleted = self._api().delete_fingerprint(employee.key, finger, situation=REG)
        store = self._fingers()
        if store is not None:
            store.delete(employee.key, finger)
        self._refresh()
        return deleted

    def _api(self) -> CredentialsApi:
        return online_client(self._client, self._is_online, REG)   # type: ignore[return-value]
