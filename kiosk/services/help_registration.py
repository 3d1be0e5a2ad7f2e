"""ヘルプ登録 at the kiosk: an employee of another department taps their card here and is registered as
help for this recorder's department, so their punches here are accepted (otherwise 「認証に失敗しました」
cause C). Needs the server; the kiosk pulls the change back at once."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from dakoku_core.domain.credentials import card_ref
from dakoku_core.domain.model import AuthMethod, Employee
from dakoku_core.errors import KioskError, Situation
from kiosk.ports import ClientProvider, MasterData

HELP = Situation.HELP_REGISTRATION


@dataclass(frozen=True)
class HelpResult:
    employee: Employee
    created: bool          # False: already registered here, or this is the employee's own department


class HelpRegistrationService:
    def __init__(self, master: MasterData, client: ClientProvider, *, is_online: Callable[[], bool],
                 refresh: Callable[[], object]):
        self._master = master
        self._client = client
        self._is_online = is_online   # (the request decides; kept for the composition root's wiring)
        self._refresh = refresh

    def register_by_card(self, card_id: str) -> HelpResult:
        employee = self._employee_for(card_id)
        recorder = self._master.recorder()
        if recorder is None:
            raise KioskError("startup_data_missing", situation=HELP)
        if employee.department_code == recorder.department_code or \
                recorder.department_code in self._master.help_departments(employee.key):
            return HelpResult(employee, False)
        client = self._client()
        if client is None:   # no connection configured: nothing to register with
            raise KioskError("online_only", situation=HELP, detail="no connection configured")
        # No "offline" guess here: the request itself fails as the client classifies it (a drop after recent
        # answers is server_unreachable, else 004-007; docs/errors.md § Connection failures).
        created = client.register_help(employee.key, situation=HELP)
        self._refresh()
        return HelpResult(employee, created)

    def _employee_for(self, card_id: str) -> Employee:
        key = self._master.card_key()
        try:
            employee = self._master.employee_by_credential(AuthMethod.CARD, card_ref(key, card_id)) if key else None
        except ValueError:
            employee = None
        if employee is None:
            raise KioskError("auth_failed", situation=HELP, cause_letter="A", credential="card",
                             detail="card not registered")
        return employee
