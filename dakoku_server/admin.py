"""Admin operations on master data (used by the admin CLI, the demo and the tests).

Every change bumps the company's master-data version; deletions leave a tombstone so incremental pulls
see them. Errors are :class:`AdminError` (a ValueError) with a message for the console.
"""
from __future__ import annotations

import os
import uuid
from datetime import date

import peewee as pw

from dakoku_core.domain.credentials import card_ref
from dakoku_core.domain.passwords import hash_password
from dakoku_core.protocol.certificate import b64url, b64url_decode
from dakoku_core.protocol.connection import CODE_RE
from dakoku_server.auth import normalise_ip
from dakoku_server.db import (
    AllowedIp, Company, Credential, Department, Employee, EmploymentType, FingerprintTemplate, HelpRegistration,
    Tombstone, bump_version, write_transaction,
)


class AdminError(ValueError):
    pass


def checked_code(value: str, what: str) -> str:
    """``value`` if it is a valid code (dakoku_core.protocol.connection.CODE_RE), else AdminError naming ``what``."""
    if not CODE_RE.match(value or ""):
        raise AdminError(f"{what} code must be 1-32 characters of A-Z a-z 0-9 _ -: {value!r}")
    return value


def company(code: str) -> Company:
    row = Company.get_or_none(Company.code == code)
    if row is None:
        raise AdminError(f"no company {code!r}")
    return row


def department(comp: Company, code: str) -> Department:
    row = Department.get_or_none((Department.company == comp) & (Department.code == code))
    if row is None:
        raise AdminError(f"no department {code!r} in {comp.code}")
    return row


def employment_type(comp: Company, code: str) -> EmploymentType:
    row = EmploymentType.get_or_none((EmploymentType.company == comp) & (EmploymentType.code == code))
    if row is None:
        raise AdminError(f"no employment type {code!r} in {comp.code}")
    return row


def employee(comp: Company, code: str) -> Employee:
    row = Employee.get_or_none((Employee.company == comp) & (Employee.code == code))
    if row is None:
        raise AdminError(f"no employee {code!r} in {comp.code}")
    return row


def card_key(comp: Company) -> bytes:
    return b64url_decode(comp.card_key)


def add_company(code: str, name: str, timezone: str = "Asia/Tokyo") -> Company:
    with write_transaction():
        try:
            return Company.create(code=checked_code(code, "company"), name=name, timezone=timezone,
                                  card_key=b64url(os.urandom(32)))
        except pw.IntegrityError:
            raise AdminError(f"company {code!r} exists") from None


def allow_ip(comp: Company, address: str) -> str:
    normalised = normalise_ip(address)
    if not normalised:
        raise AdminError(f"not an IP address: {address!r}")
    with write_transaction():
        AllowedIp.insert(company=comp, address=normalised).on_conflict_ignore().execute()
    return normalised


def disallow_ip(comp: Company, address: str) -> int:
    with write_transaction():
        return AllowedIp.delete().where((AllowedIp.company == comp)
                                        & (AllowedIp.address == normalise_ip(address))).execute()


def allowed_ips(comp: Company) -> list[str]:
    return [row.address for row in AllowedIp.select().where(AllowedIp.company == comp).order_by(AllowedIp.address)]


def add_department(comp: Company, code: str, name: str) -> Department:
    with write_transaction():
        try:
            return Department.create(company=comp, code=checked_code(code, "department"), name=name,
                                     version=bump_version(comp))
        except pw.IntegrityError:
            raise AdminError(f"department {code!r} exists") from None


def add_employment_type(comp: Company, code: str, name: str, break_punch_allowed: bool = True) -> EmploymentType:
    with write_transaction():
        try:
            return EmploymentType.create(company=comp, code=checked_code(code, "employment type"), name=name,
                                         break_punch_allowed=break_punch_allowed, version=bump_version(comp))
        except pw.IntegrityError:
            raise AdminError(f"employment type {code!r} exists") from None


def _employee_fields(comp: Company, fields: dict) -> dict:
    out = dict(fields)
    if "department" in out and isinstance(out["department"], str):
        out["department"] = department(comp, out["department"])
    if "employment_type" in out and isinstance(out["employment_type"], str):
        out["employment_type"] = employment_type(comp, out["employment_type"])
    for name in ("hired_on", "retired_on"):
        if isinstance(out.get(name), str):
            out[name] = date.fromisoformat(out[name]) if out[name] else None
    if "password" in out:
        password = out.pop("password")
        out["password_hash"] = hash_password(password) if password else ""
    return out


def _check_login_id(comp: Company, login_id: str, exclude_id: int | None = None) -> None:
    if not login_id:
        return
    query = Employee.select().where((Employee.company == comp) & (Employee.login_id == login_id))
    if exclude_id is not None:
        query = query.where(Employee.id != exclude_id)
    if query.exists():
        raise AdminError(f"login ID {login_id!r} is taken")


def add_employee(comp: Company, code: str, last_name: str, department: str, employment_type: str,
                 **fields: object) -> Employee:
    """Fields: first_name, last_name_kana, first_name_kana, login_id, hired_on, retired_on (date or ISO
    text), password_punch_allowed, password (plain; stored as a scrypt hash)."""
    values = _employee_fields(comp, {"department": department, "employment_type": employment_type, **fields})
    with write_transaction():
        _check_login_id(comp, str(values.get("login_id", "")))
        try:
            return Employee.create(company=comp, key=uuid.uuid4().hex, code=checked_code(code, "employee"),
                                   last_name=last_name, version=bump_version(comp), **values)
        except pw.IntegrityError:
            raise AdminError(f"employee {code!r} exists") from None


def update_employee(comp: Company, code: str, **fields: object) -> Employee:
    row = employee(comp, code)
    values = _employee_fields(comp, fields)
    with write_transaction():
        _check_login_id(comp, str(values.get("login_id", "")), exclude_id=row.id)
        for name, value in values.items():
            setattr(row, name, value)
        row.version = bump_version(comp)
        row.save()
    return row


def _tombstone(comp: Company, kind: str, key: str) -> None:
    Tombstone.create(company=comp, kind=kind, key=key, version=bump_version(comp))


def credential_key(method: str, ref: str) -> str:
    return f"{method}:{ref}"


def help_key(employee_key: str, department_code: str) -> str:
    return f"{employee_key}:{department_code}"


def delete_employee(comp: Company, code: str) -> None:
    row = employee(comp, code)
    with write_transaction():
        for cred in Credential.select().where(Credential.employee == row):
            _tombstone(comp, "credential", credential_key(cred.method, cred.ref))
        for reg in HelpRegistration.select(HelpRegistration, Department).join(Department).where(
                HelpRegistration.employee == row):
            _tombstone(comp, "help_registration", help_key(row.key, reg.department.code))
        fingers = FingerprintTemplate.select(FingerprintTemplate.finger).where(FingerprintTemplate.employee == row)
        for finger in sorted({f.finger for f in fingers}):
            _tombstone(comp, "fingerprint", f"{row.key}:{finger}")     # rows go with the employee (cascade)
        row.delete_instance(recursive=False)
        _tombstone(comp, "employee", row.key)


def add_card(comp: Company, employee_code: str, card_id: str) -> Credential:
    """Bind a card (raw ID; stored only as its keyed hash) to an employee."""
    row = employee(comp, employee_code)
    try:
        ref = card_ref(card_key(comp), card_id)
    except ValueError as exc:
        raise AdminError(str(exc)) from None
    with write_transaction():
        try:
            return Credential.create(company=comp, employee=row, method="card", ref=ref, version=bump_version(comp))
        except pw.IntegrityError:
            raise AdminError("this card is registered already") from None


def delete_card(comp: Company, card_id: str) -> bool:
    ref = card_ref(card_key(comp), card_id)
    with write_transaction():
        deleted = Credential.delete().where((Credential.company == comp) & (Credential.method == "card")
                                            & (Credential.ref == ref)).execute()
        if deleted:
            _tombstone(comp, "credential", credential_key("card", ref))
    return bool(deleted)


def add_help(comp: Company, employee_code: str, department_code: str) -> HelpRegistration:
    emp, dept = employee(comp, employee_code), department(comp, department_code)
    with write_transaction():
        existing = HelpRegistration.get_or_none((HelpRegistration.employee == emp)
                                                & (HelpRegistration.department == dept))
        if existing:
            return existing
        version = bump_version(comp)
        Employee.update(version=version).where(Employee.id == emp.id).execute()   # their scope changed
        return HelpRegistration.create(company=comp, employee=emp, department=dept, version=version)


def delete_help(comp: Company, employee_code: str, department_code: str) -> bool:
    emp, dept = employee(comp, employee_code), department(comp, department_code)
    with write_transaction():
        deleted = HelpRegistration.delete().where((HelpRegistration.employee == emp)
                                                  & (HelpRegistration.department == dept)).execute()
        if deleted:
            _tombstone(comp, "help_registration", help_key(emp.key, dept.code))
            Employee.update(version=comp.data_version).where(Employee.id == emp.id).execute()  # scope changed
    return bool(deleted)
