"""認証登録 of IC cards by a manager at the kiosk: choose the employee, read the card twice (a card or
phone whose ID changes between reads cannot identify anybody), register it with the server, which
checks duplicates company-wide. Online only. Deleting works the same way."""
from __future__ import annotations

from typing import Callable

from dakoku_core.domain.credentials import card_ref, normalise_card_id
from dakoku_core.domain.kana import kana_row
from dakoku_core.domain.model import AuthMethod, Employee
from dakoku_core.errors import KioskError, Situation
from kiosk.ports import MasterData
from kiosk.services.recorder_api import online_client

REG = Situation.REGISTRATION


class CardRegistrationService:
    def __init__(self, master: MasterData, client: Callable[[], object], *, is_online: Callable[[], bool],
                 refresh: Callable[[], object]):
        self._master = master
        self._client = client
        self._is_online = is_online
        self._refresh = refresh   # データ更新 after a change, so the new card punches at once

    # -- choosing the employee ----------------------------------------------------------------------
    def employees_in_row(self, row: str) -> list[Employee]:
        """Employees whose reading starts in the kana row ``row`` (ア, カ, ...), by reading."""
        found = [e for e in self._master.employees() if kana_row(e.kana) == row]
        return sorted(found, key=lambda e: (e.kana, e.code))

    def employee_by_code(self, code: str) -> Employee:
        if not code.strip():
            raise KioskError("employee_code_empty", situation=REG)
        employee = self._master.employee_by_code_or_login(code)
        if employee is None:
            raise KioskError("employee_not_found", situation=REG)
        return employee

    # -- registering and deleting -------------------------------------------------------------------
    def check_reads(self, first: str, second: str) -> str:
        """The two reads of one card must agree (a rotating ID is refused)."""
        a, b = _card_id(first), _card_id(second)
        if a != b:
            raise KioskError("card_id_unstable", situation=REG, detail=f"…{a[-4:]} then …{b[-4:]}")
        return a

    def available(self) -> None:
        """認証登録 is refused while offline (「この機能はオンライン時のみ利用できます」)."""
        self._online_client()

    def register(self, employee: Employee, first_read: str, second_read: str) -> None:
        card_id = self.check_reads(first_read, second_read)
        client = self._online_client()
        ref = self._ref(card_id)
        holder = self._master.employee_by_credential(AuthMethod.CARD, ref)
        if holder is not None:   # known locally already: say so without a round trip
            if holder.key == employee.key:
                raise KioskError("credential_registered_to_employee", situation=REG,
                                 context={"name": holder.display_name, "code": holder.code})
            raise KioskError("credential_duplicate", situation=REG)
        try:
            client.register_credential(employee.key, AuthMethod.CARD.value, ref, situation=REG)
        except KioskError as error:
            # A retried request whose first attempt did register answers "already this employee's": done.
            if not (error.key == "credential_registered_to_employee" and error.context.get("code") == employee.code):
                raise
        self._refresh()

    def delete(self, employee: Employee, card_id: str) -> Employee | None:
        """Remove the chosen employee's card (lost, broken, left the company). A card that is known to be
        someone else's is refused: the manager chose 鈴木 and must not delete 山田's card by mistake."""
        client = self._online_client()
        ref = self._ref(_card_id(card_id))
        holder = self._master.employee_by_credential(AuthMethod.CARD, ref)
        if holder is not None and holder.key != employee.key:
            raise KioskError("card_belongs_to_other", situation=REG,
                             context={"name": holder.display_name, "code": holder.code})
        deleted = client.delete_credential(AuthMethod.CARD.value, ref, situation=REG)
        if not deleted and holder is None:
            raise KioskError("auth_failed", situation=REG, cause_letter="A", credential="card",
                             detail="card not registered")
        self._refresh()
        return holder

    def _online_client(self):
        return online_client(self._client, self._is_online, REG)

    def _ref(self, card_id: str) -> str:
        key = self._master.card_key()
        if key is None:
            raise KioskError("startup_data_missing", situation=REG)
        return card_ref(key, card_id)


def _card_id(raw: str) -> str:
    try:
        return normalise_card_id(raw)
    except ValueError:
        raise KioskError("card_read_failed", situation=REG, detail="not a card ID") from None
