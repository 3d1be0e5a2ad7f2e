"""Master data as last pulled from the server (or seeded by the demo), cached in the ledger file."""
from __future__ import annotations

import json
from typing import Iterable

from kiosk.adapters.ledger.db import LedgerDatabase, translated
from kiosk.adapters.ledger.models import (
    CredentialRow, DepartmentRow, EmployeeRow, EmploymentTypeRow, HelpRegistrationRow, MetaRow,
)
from kiosk.domain.model import AuthMethod, Credential, Department, Employee, EmploymentType, Recorder
from kiosk.errors import Situation

_EMPLOYEE_FIELDS = ("key", "code", "login_id", "last_name", "first_name", "kana", "department_code",
                    "employment_type_code", "hired_on", "retired_on", "password_punch_allowed", "password_hash")


class SqliteMasterData:
    def __init__(self, ledger: LedgerDatabase):
        self._ledger = ledger

    # -- reads --------------------------------------------------------------------------------
    @translated
    def employee(self, key: str) -> Employee | None:
        return _to_employee(EmployeeRow.get_or_none(EmployeeRow.key == key))

    @translated
    def employee_by_code_or_login(self, text: str) -> Employee | None:
        text = text.strip()
        if not text:
            return None
        row = (EmployeeRow.get_or_none(EmployeeRow.code == text)
               or EmployeeRow.get_or_none(EmployeeRow.login_id == text))
        return _to_employee(row)

    @translated
    def employee_by_credential(self, method: AuthMethod, ref: str) -> Employee | None:
        cred = CredentialRow.get_or_none((CredentialRow.method == method.value) & (CredentialRow.ref == ref))
        return self.employee(cred.employee_key) if cred else None

    @translated
    def employees(self) -> list[Employee]:
        return [_to_employee(r) for r in EmployeeRow.select().order_by(EmployeeRow.code)]

    @translated
    def employment_type(self, code: str) -> EmploymentType | None:
        row = EmploymentTypeRow.get_or_none(EmploymentTypeRow.code == code)
        return EmploymentType(row.code, row.name, bool(row.break_punch_allowed)) if row else None

    @translated
    def help_departments(self, employee_key: str) -> frozenset[str]:
        rows = HelpRegistrationRow.select().where(HelpRegistrationRow.employee_key == employee_key)
        return frozenset(r.department_code for r in rows)

    @translated
    def departments(self) -> list[Department]:
        return [Department(r.code, r.name) for r in DepartmentRow.select().order_by(DepartmentRow.code)]

    @translated
    def recorder(self) -> Recorder | None:
        raw = self._meta("recorder")
        return Recorder(**json.loads(raw)) if raw else None

    @translated
    def card_key(self) -> bytes | None:
        raw = self._meta("card_key")
        return bytes.fromhex(raw) if raw else None

    def _meta(self, key: str) -> str | None:
        row = MetaRow.get_or_none(MetaRow.key == key)
        return row.value if row else None

    # -- replace (データ更新) --------------------------------------------------------------------
    def replace_all(self, *, employees: Iterable[Employee], credentials: Iterable[Credential],
                    departments: Iterable[Department], employment_types: Iterable[EmploymentType],
                    help_registrations: Iterable[tuple[str, str]], recorder: Recorder,
                    card_key: bytes) -> None:
        """Swap the whole cached master data in one transaction: readers see old or new, never a mix."""
        with self._ledger.writing(Situation.DATA_UPDATE):
            for model in (CredentialRow, HelpRegistrationRow, EmployeeRow, EmploymentTypeRow, DepartmentRow):
                model.delete().execute()
            _insert_many(DepartmentRow, [{"code": d.code, "name": d.name} for d in departments])
            _insert_many(EmploymentTypeRow, [
                {"code": t.code, "name": t.name, "break_punch_allowed": t.break_punch_allowed}
                for t in employment_types])
            _insert_many(EmployeeRow, [{f: getattr(e, f) for f in _EMPLOYEE_FIELDS} for e in employees])
            _insert_many(CredentialRow, [
                {"method": c.method.value, "ref": c.ref, "employee_key": c.employee_key} for c in credentials])
            _insert_many(HelpRegistrationRow, [
                {"employee_key": k, "department_code": d} for k, d in help_registrations])
            recorder_json = json.dumps({"code": recorder.code, "company_code": recorder.company_code,
                                        "department_code": recorder.department_code})
            MetaRow.replace(key="recorder", value=recorder_json).execute()
            MetaRow.replace(key="card_key", value=card_key.hex()).execute()


def _insert_many(model, rows: list[dict], batch: int = 500) -> None:
    for start in range(0, len(rows), batch):
        model.insert_many(rows[start:start + batch]).execute()


def _to_employee(row: EmployeeRow | None) -> Employee | None:
    if row is None:
        return None
    values = {f: getattr(row, f) for f in _EMPLOYEE_FIELDS}
    values["password_punch_allowed"] = bool(values["password_punch_allowed"])
    return Employee(**values)
