"""Server rows → dakoku_core.domain value types, so the server re-checks punches with the kiosk's own rules."""
from __future__ import annotations

from dakoku_core.domain.model import Employee, EmploymentType
from dakoku_server import db


def domain_employment_type(row: db.EmploymentType | None) -> EmploymentType | None:
    if row is None:
        return None
    return EmploymentType(code=row.code, name=row.name, break_punch_allowed=row.break_punch_allowed)


def domain_employee(row: db.Employee) -> Employee:
    return Employee(
        key=row.key, code=row.code, last_name=row.last_name, first_name=row.first_name,
        department_code=row.department.code, employment_type_code=row.employment_type.code,
        login_id=row.login_id, kana=f"{row.last_name_kana} {row.first_name_kana}".strip(),
        hired_on=row.hired_on, retired_on=row.retired_on,
        password_punch_allowed=row.password_punch_allowed, password_hash=row.password_hash,
    )
