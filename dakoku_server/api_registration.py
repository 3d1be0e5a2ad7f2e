"""Credential registration/deletion and help registration (ヘルプ登録) from a kiosk.

Duplicate checks are company-wide and run inside the write transaction (unique index as the last word):
- the credential is already the same employee's → 409 ``credential_registered_to_employee`` with that
  employee's ``name`` and ``code`` (the kiosk shows whose it is: the person in front of it);
- it belongs to another employee → 409 ``credential_duplicate`` (who holds it is not disclosed).
Deleting a credential that does not exist answers 200 with ``deleted: false`` (deletion is idempotent).
"""
from __future__ import annotations

import re

import peewee as pw
from flask import Response, jsonify

from dakoku_core.protocol.schemas import CREDENTIAL_REGISTRATION, HELP_REGISTRATION, METHOD, REF
from dakoku_server.admin import credential_key, help_key
from dakoku_server.api_base import api_blueprint, caller, json_body
from dakoku_server.db import (
    Company, Credential, Department, Employee, HelpRegistration, Tombstone, bump_version, database,
    write_transaction,
)
from dakoku_server.errors import ApiError, bad_request
from dakoku_server.scope import (
    company_employee, in_scope, out_of_scope, own_department, scoped_employee, touch_employee,
)

blueprint = api_blueprint("registration", __name__)


def _duplicate(existing: Credential, emp: Employee) -> ApiError:
    if existing.employee_id == emp.id:
        return ApiError(409, "credential_registered_to_employee", "credential_registered_to_employee",
                        context={"name": emp.display_name, "code": emp.code})
    return ApiError(409, "credential_duplicate", "credential_duplicate")


@blueprint.post("/credentials")
def register_credential() -> Response:
    body = json_body(CREDENTIAL_REGISTRATION)
    who = caller()
    comp = who.company
    with write_transaction():
        emp = scoped_employee(comp, who.recorder, body["employee_key"])
        match = (Credential.company == comp) & (Credential.method == body["method"]) & (Credential.ref == body["ref"])
        existing = Credential.get_or_none(match)
        if existing is not None:
            raise _duplicate(existing, emp)
        try:
            with database.atomic():
                Credential.create(company=comp, employee=emp, method=body["method"], ref=body["ref"],
                                  version=bump_version(comp), registered_by=who.recorder.code)
        except pw.IntegrityError:
            raise _duplicate(Credential.get(match), emp) from None
    return jsonify({"registered": True, "employee_key": emp.key, "method": body["method"],
                    "ref": body["ref"], "version": comp.data_version}), 201


@blueprint.delete("/credentials/<method>/<ref>")
def delete_credential(method: str, ref: str) -> Response:
    if method not in METHOD["enum"] or not re.fullmatch(REF["pattern"].strip("^$"), ref):
        raise bad_request("invalid_credential")
    who = caller()
    comp = who.company
    with write_transaction():
        match = (Credential.company == comp) & (Credential.method == method) & (Credential.ref == ref)
        existing = Credential.select(Credential, Employee).join(Employee).where(match).first()
        if existing is not None and not in_scope(existing.employee, who.recorder):
            raise out_of_scope()
        deleted = Credential.delete().where(match).execute()
        if deleted:
            Tombstone.create(company=comp, kind="credential", key=credential_key(method, ref),
                             version=bump_version(comp))
    return jsonify({"deleted": bool(deleted), "version": comp.data_version})


def _department(comp: Company, code: str) -> Department:
    dept = Department.get_or_none((Department.company == comp) & (Department.code == code))
    if dept is None:
        raise bad_request("unknown_department")
    return dept


@blueprint.post("/help-registrations")
def register_help() -> Response:
    body = json_body(HELP_REGISTRATION)
    who = caller()
    comp = who.company
    with write_transaction():
        emp = company_employee(comp, body["employee_key"])      # any employee, but only into this department
        dept = _department(comp, body.get("department_code") or who.recorder.department.code)
        own_department(who.recorder, dept.id)
        existing = HelpRegistration.get_or_none((HelpRegistration.employee == emp)
                                                & (HelpRegistration.department == dept))
        if existing is None:
            version = bump_version(comp)
            HelpRegistration.create(company=comp, employee=emp, department=dept, version=version)
            touch_employee(emp, version)
    status = 200 if existing is not None else 201
    return jsonify({"registered": True, "created": existing is None, "employee_key": emp.key,
                    "department_code": dept.code, "version": comp.data_version}), status


@blueprint.delete("/help-registrations/<employee_key>/<department_code>")
def delete_help(employee_key: str, department_code: str) -> Response:
    who = caller()
    comp = who.company
    with write_transaction():
        emp = company_employee(comp, employee_key)
        dept = _department(comp, department_code)
        own_department(who.recorder, dept.id)
        deleted = HelpRegistration.delete().where((HelpRegistration.employee == emp)
                                                  & (HelpRegistration.department == dept)).execute()
        if deleted:
            version = bump_version(comp)
            Tombstone.create(company=comp, kind="help_registration", key=help_key(emp.key, dept.code),
                             version=version)
            touch_employee(emp, version)
    return jsonify({"deleted": bool(deleted), "version": comp.data_version})
