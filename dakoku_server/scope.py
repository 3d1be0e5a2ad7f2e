"""What a recorder may see and change (issue 10, item 4): the employees of its own department plus those
help-registered into it ("in scope").

- Master data sends in-scope employees in full. Employees of other departments come as a directory entry only
  (name, code, department, dates; no login ID, no password hash, ``password_punch_allowed: false``): the kiosk
  needs them to say 「認証に失敗しました」 cause C for another department's card and to help-register that
  employee here (ヘルプ登録, kiosk.services.help_registration). Password hashes go only to recorders where the
  employee may punch by password (in scope and ``password_punch_allowed``).
- Cards, fingerprints, timecard links: only for in-scope employees; another department's employee is refused
  with 403 ``auth_failed`` cause C (「ヘルプ登録してください」), which is also the advice that helps.
- Help registrations: any employee of the company may be registered into the recorder's *own* department;
  registering into or removing from any other department is refused the same way.
"""
from __future__ import annotations

from dakoku_server.db import Company, Employee, HelpRegistration, Recorder
from dakoku_server.errors import ApiError


def out_of_scope(reason: str = "employee_out_of_scope") -> ApiError:
    return ApiError(403, "auth_failed", reason, cause_letter="C")


def in_scope(emp: Employee, rec: Recorder) -> bool:
    if emp.department_id == rec.department_id:
        return True
    return HelpRegistration.select().where((HelpRegistration.employee == emp)
                                           & (HelpRegistration.department == rec.department_id)).exists()


def in_scope_ids(rec: Recorder):
    """A sub-query of the ids of the employees in the recorder's scope."""
    helped = HelpRegistration.select(HelpRegistration.employee).where(
        HelpRegistration.department == rec.department_id)
    return Employee.select(Employee.id).where((Employee.company == rec.company_id)
                                              & ((Employee.department == rec.department_id)
                                                 | Employee.id.in_(helped)))


def company_employee(comp: Company, key: str) -> Employee:
    """The company's employee ``key``; 404 ``employee_not_found`` when there is none."""
    emp = Employee.get_or_none((Employee.company == comp) & (Employee.key == key))
    if emp is None:
        raise ApiError(404, "employee_not_found", "employee_not_found")
    return emp


def scoped_employee(comp: Company, rec: Recorder, key: str) -> Employee:
    """The employee ``key`` if the recorder may act on them: 404 when unknown, 403 cause C when out of scope."""
    emp = company_employee(comp, key)
    if not in_scope(emp, rec):
        raise out_of_scope()
    return emp


def own_department(rec: Recorder, department_id: int) -> None:
    """403 cause C unless ``department_id`` is the recorder's own department."""
    if department_id != rec.department_id:
        raise out_of_scope("department_out_of_scope")


def touch_employee(emp: Employee, version: int) -> None:
    """Mark the employee changed at ``version`` (their scope changed: an incremental pull re-sends them)."""
    Employee.update(version=version).where(Employee.id == emp.id).execute()
