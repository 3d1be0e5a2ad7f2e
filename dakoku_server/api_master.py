"""GET /v1/master (master data with version/ETag, incremental with ?since=N) and GET /v1/time."""
from __future__ import annotations

import time
from datetime import datetime, timezone

from flask import Response, jsonify, request

from dakoku_server.api_base import api_blueprint, caller
from dakoku_server.db import (
    Company, Credential, Department, Employee, EmploymentType, HelpRegistration, Recorder, Tombstone,
)
from dakoku_server.errors import bad_request
from dakoku_server.recorders import settings_of
from dakoku_server.scope import in_scope_ids

blueprint = api_blueprint("master", __name__)


def etag_for(version: int) -> str:
    return f'W/"m{version}"'


# One row per employee as plain values (no model objects: building a joined Employee + Department +
# EmploymentType object per row was half of a 200-employee pull, issue 13 §Scale in docs/server.md).
_EMPLOYEE_COLUMNS = (Employee.id, Employee.key, Employee.code, Employee.login_id, Employee.last_name,
                     Employee.first_name, Employee.last_name_kana, Employee.first_name_kana,
                     Department.code.alias("department_code"), EmploymentType.code.alias("employment_type_code"),
                     Employee.hired_on, Employee.retired_on, Employee.password_punch_allowed,
                     Employee.password_hash, Employee.version)


def _employee(row, in_scope: bool) -> dict:
    """An employee as the recorder may see them (dakoku_server.scope): in full when in its scope, else a
    directory entry without login ID or password; a password hash only where password punching is allowed."""
    password = in_scope and row.password_punch_allowed
    return {
        "key": row.key, "code": row.code, "login_id": row.login_id if in_scope else "",
        "last_name": row.last_name, "first_name": row.first_name,
        "last_name_kana": row.last_name_kana, "first_name_kana": row.first_name_kana,
        "kana": f"{row.last_name_kana} {row.first_name_kana}".strip(),
        "department_code": row.department_code, "employment_type_code": row.employment_type_code,
        "hired_on": row.hired_on.isoformat() if row.hired_on else None,
        "retired_on": row.retired_on.isoformat() if row.retired_on else None,
        "password_punch_allowed": password, "password_hash": row.password_hash if password else "",
        "in_scope": in_scope, "version": row.version,
    }


def _recorder(rec: Recorder, comp: Company) -> dict:
    return {"code": rec.code, "name": rec.name, "company_code": comp.code,
            "department_code": rec.department.code, "device": rec.device,
            "timezone": comp.timezone, "settings": settings_of(rec)}


def _changed(model, comp: Company, since: int, *joined):
    query = model.select(model, *joined)
    for other in joined:
        query = query.switch(model).join(other)
    query = query.where(model.company == comp)
    return query.where(model.version > since) if since else query


def master_payload(comp: Company, rec: Recorder, since: int) -> dict:
    if since and rec.version > since:       # moved to another department (or new settings): scope may differ
        since = 0
    scoped = {emp_id for (emp_id,) in in_scope_ids(rec).tuples()}
    employees = (_changed(Employee, comp, since, Department, EmploymentType).select(*_EMPLOYEE_COLUMNS)
                 .order_by(Employee.code).namedtuples())
    credentials = _changed(Credential, comp, since, Employee).order_by(Credential.id)
    helps = _changed(HelpRegistration, comp, since, Employee, Department).order_by(HelpRegistration.id)
    deleted = [] if not since else [
        {"kind": t.kind, "key": t.key, "version": t.version}
        for t in Tombstone.select().where((Tombstone.company == comp) & (Tombstone.version > since)
                                          & (Tombstone.kind != "fingerprint"))      # GET /v1/fingerprints's
        .order_by(Tombstone.version)]
    return {
        "version": comp.data_version, "full": not since, "since": since or None,
        "company": {"code": comp.code, "name": comp.name, "timezone": comp.timezone},
        "card_key": comp.card_key,
        "recorder": _recorder(rec, comp),
        "departments": [{"code": d.code, "name": d.name} for d in
                        Department.select().where(Department.company == comp).order_by(Department.code)],
        "employment_types": [{"code": t.code, "name": t.name, "break_punch_allowed": t.break_punch_allowed}
                             for t in EmploymentType.select().where(EmploymentType.company == comp)
                             .order_by(EmploymentType.code)],
        "employees": [_employee(e, e.id in scoped) for e in employees],
        "credentials": [{"employee_key": c.employee.key, "method": c.method, "ref": c.ref} for c in credentials],
        "help_registrations": [{"employee_key": h.employee.key, "department_code": h.department.code}
                               for h in helps],
        "deleted": deleted,
    }


def since_param(current: int) -> int:
    raw = request.args.get("since", "0")
    if not raw.isdigit():
        raise bad_request("invalid_since")
    since = int(raw)
    return since if 0 < since <= current else 0  # unknown or future version: send everything


@blueprint.get("/master")
def master() -> Response:
    who = caller()
    comp = Company.get_by_id(who.company.id)          # fresh version, not the one read at auth time
    rec = Recorder.get_by_id(who.recorder.id)
    etag = etag_for(comp.data_version)
    if etag in [tag.strip() for tag in request.headers.get("If-None-Match", "").split(",")]:
        return Response(status=304, headers={"ETag": etag})
    payload = master_payload(comp, rec, since_param(comp.data_version))
    response = jsonify(payload)
    response.headers["ETag"] = etag
    response.headers["Cache-Control"] = "no-cache"
    return response


@blueprint.get("/time")
def server_time() -> Response:
    now = time.time()
    return jsonify({"server_time": datetime.fromtimestamp(now, timezone.utc).isoformat(),
                    "epoch": now, "timezone": caller().company.timezone})
