"""Fingerprint templates with the server: register (POST), delete (DELETE) and sync (GET) /v1/fingerprints.

Templates travel as base64 of ``FingerprintTemplate.to_bytes()`` (minutiae, never images) and are stored
sealed (dakoku_server.template_vault). Registration runs the enrolment duplicate check
(:func:`dakoku_core.fingerprint.enroll.check_duplicates`) against every enrolled finger of the company but the one
being replaced, inside the write transaction, on the per-process gallery (dakoku_server.fingerprint_gallery):
another employee's finger → 409 ``credential_duplicate`` (not saying whose); another finger of the same employee
→ 409 ``credential_registered_to_employee`` with ``name`` and ``code``. The pull sends only the fingers of
employees who may punch at the recorder's department (its own and help-registered employees).
"""
from __future__ import annotations

import base64
import binascii
import logging
import re
from itertools import groupby

from flask import Response, jsonify, request

from dakoku_core.errors import KioskError
from dakoku_core.fingerprint.enroll import Enrollment, agreement, check_duplicates
from dakoku_core.fingerprint.matcher import Matcher
from dakoku_core.fingerprint.mcc import CylinderCode
from dakoku_core.fingerprint.policy import Thresholds
from dakoku_core.fingerprint.template import FingerprintTemplate as Template
from dakoku_core.protocol.schemas import FINGERPRINT_REGISTRATION, MAX_TEMPLATE_BYTES
from dakoku_server.api_master import since_param
from dakoku_server.api_base import api_blueprint, caller, json_body, request_vault
from dakoku_server.db import (
    Company, Employee, FingerprintTemplate, HelpRegistration, Recorder, Tombstone, bump_version, write_transaction,
)
from dakoku_server.errors import ApiError, bad_request
from dakoku_server.fingerprint_gallery import GALLERIES
from dakoku_server.scope import scoped_employee
from dakoku_server.template_vault import TemplateVault, binding

blueprint = api_blueprint("fingerprints", __name__)
MATCHER = Matcher()
THRESHOLDS = Thresholds()
Row = FingerprintTemplate

log = logging.getLogger("dakoku_server")


def etag_for(version: int) -> str:
    return f'W/"f{version}"'


def finger_key(employee_key: str, finger: int) -> str:
    """The tombstone key of a deleted finger."""
    return f"{employee_key}:{finger}"


def _employee(comp: Company, key: str) -> Employee:
    """The employee if this recorder may enrol or delete their fingers (dakoku_server.scope)."""
    return scoped_employee(comp, caller().recorder, key)


def _template(text: str) -> Template:
    """A sub-template from its base64; 400 ``invalid_template`` unless it is a template with minutiae."""
    try:
        raw = base64.b64decode(text, validate=True)
        if len(raw) > MAX_TEMPLATE_BYTES:
            raise ValueError("template too large")
        template = Template.from_bytes(raw)
    except (binascii.Error, ValueError):
        raise bad_request("invalid_template") from None
    if len(template) == 0:
        raise bad_request("invalid_template")
    return template


def _one_finger(codes: list[CylinderCode]) -> None:
    """The posted templates are one finger's, as ``enroll.consolidate`` makes them: each agrees at the verify
    threshold with the one that agrees most with the others. Else 400 ``templates_disagree``: the duplicate check
    needs every template to reach an enrolled finger, so a registration padded with another finger's template
    would slip a duplicate past it."""
    if len(codes) < 2:
        return
    primary, scores = agreement(codes, MATCHER)
    if any(score < THRESHOLDS.verify for i, score in enumerate(scores) if i != primary):
        raise bad_request("templates_disagree")


def _check_duplicates(comp: Company, emp: Employee, finger: int, templates: list[Template],
                      codes: list[CylinderCode], vault: TemplateVault) -> None:
    others = GALLERIES.gallery(comp, vault).changed({(emp.key, finger)})
    enrollment = Enrollment(tuple(templates), tuple(codes), ())
    try:   # the server's Employee has the display_name and code the check reads
        check_duplicates(enrollment, emp.key, others, {emp.key: emp}, MATCHER)
    except KioskError as exc:
        raise ApiError(409, exc.key, exc.key, context=exc.context) from None


def _store(comp: Company, emp: Employee, finger: int, templates: list[Template], codes: list[CylinderCode],
           version: int, vault: TemplateVault) -> None:
    Row.delete().where((Row.employee == emp) & (Row.finger == finger)).execute()
    bound = binding(comp.code, emp.key, finger)
    Row.insert_many([{"company": comp, "employee": emp, "finger": finger, "seq": seq, "version": version,
                      "sealed": vault.seal_template(t, bound), "sealed_code": vault.seal_code(c, bound)}
                     for seq, (t, c) in enumerate(zip(templates, codes))]).execute()


def _free_finger(emp: Employee) -> int:
    """The lowest finger number the employee has not enrolled (read inside the write transaction, so two kiosks
    enrolling the same employee at once get different numbers); 409 ``enrollment_failed`` when all ten are."""
    used = {f for (f,) in Row.select(Row.finger).where(Row.employee == emp).distinct().tuples()}
    free = [f for f in range(10) if f not in used]
    if not free:
        raise ApiError(409, "enrollment_failed", "all_fingers_enrolled")
    return free[0]


def _refresh_gallery(comp: Company, vault: TemplateVault | None = None) -> None:
    """After a committed change: load it into the gallery cache now (and start its self-check). A failure here is
    logged and answers nothing: the change is committed, and the next request that reads the gallery loads it."""
    try:
        GALLERIES.gallery(comp, vault or request_vault())
    except Exception:   # noqa: BLE001 - the kiosk must get the committed answer, not a 500 to retry
        log.exception("could not load the changed fingerprint gallery of %s; the next request will", comp.code)


@blueprint.post("/fingerprints")
def register_fingerprint() -> Response:
    body = json_body(FINGERPRINT_REGISTRATION)
    finger = body.get("finger")            # given: replace that finger; absent: a new finger, numbered here
    templates = [_template(text) for text in body["templates"]]
    codes = [MATCHER.encode(t) for t in templates]              # ~17 ms each: outside the write lock
    _one_finger(codes)
    vault = request_vault()
    GALLERIES.gallery(Company.get_by_id(caller().company.id), vault)     # a cold load, not under the write lock
    with write_transaction():
        emp = _employee(caller().company, body["employee_key"])
        comp = Company.get_by_id(emp.company_id)                # this transaction's data_version
        finger = _free_finger(emp) if finger is None else finger
        _check_duplicates(comp, emp, finger, templates, codes, vault)
        _store(comp, emp, finger, templates, codes, bump_version(comp), vault)
    _refresh_gallery(comp, vault)           # the new finger loaded now, and the gallery's self-check started on it
    return jsonify({"registered": True, "employee_key": emp.key, "finger": finger,
                    "sub_templates": len(templates), "version": comp.data_version}), 201


@blueprint.delete("/fingerprints/<employee_key>/<finger>")
def delete_fingerprint(employee_key: str, finger: str) -> Response:
    if not re.fullmatch(r"[0-9]", finger):
        raise bad_request("invalid_finger")
    with write_transaction():
        emp = _employee(caller().company, employee_key)
        comp = Company.get_by_id(emp.company_id)
        deleted = Row.delete().where((Row.employee == emp) & (Row.finger == int(finger))).execute()
        if deleted:
            Tombstone.create(company=comp, kind="fingerprint", key=finger_key(emp.key, int(finger)),
                             version=bump_version(comp))
    if deleted:
        _refresh_gallery(comp)                      # as after a registration: the check starts without the finger
    return jsonify({"deleted": bool(deleted), "version": comp.data_version})


def _in_scope_rows(comp: Company, department_id: int, since: int):
    """Rows of the fingers the recorder's department may use; with ``since``, those that changed or whose
    employee may just have come into scope (employee row changed, or help-registered here, after ``since``)."""
    helped = HelpRegistration.select(HelpRegistration.employee).where(HelpRegistration.department == department_id)
    query = (Row.select(Row.finger, Row.seq, Row.version, Row.sealed, Employee.key).join(Employee)
             .where((Row.company == comp)
                    & ((Employee.department == department_id) | Employee.id.in_(helped))))
    if since:
        fresh_help = helped.where(HelpRegistration.version > since)
        query = query.where((Row.version > since) | (Employee.version > since) | Employee.id.in_(fresh_help))
    return query.order_by(Employee.key, Row.finger, Row.seq).tuples()


def fingerprint_payload(comp: Company, department_id: int, since: int, vault: TemplateVault) -> dict:
    fingers = []
    for (key, finger), rows in groupby(_in_scope_rows(comp, department_id, since), key=lambda r: (r[4], r[0])):
        rows = list(rows)
        bound = binding(comp.code, key, finger)
        fingers.append({"employee_key": key, "finger": finger, "version": max(r[2] for r in rows),
                        "templates": [base64.b64encode(vault.open_template(r[3], bound).to_bytes()).decode("ascii")
                                      for r in rows]})
    deleted = [] if not since else [
        {"employee_key": t.key.rsplit(":", 1)[0], "finger": int(t.key.rsplit(":", 1)[1]), "version": t.version}
        for t in Tombstone.select().where((Tombstone.company == comp) & (Tombstone.kind == "fingerprint")
                                          & (Tombstone.version > since)).order_by(Tombstone.version)]
    return {"version": comp.data_version, "full": not since, "since": since or None,
            "fingers": fingers, "deleted": deleted}


@blueprint.get("/fingerprints")
def fingerprints() -> Response:
    who = caller()
    comp = Company.get_by_id(who.company.id)          # fresh version, not the one read at auth time
    etag = etag_for(comp.data_version)
    if etag in [tag.strip() for tag in request.headers.get("If-None-Match", "").split(",")]:
        return Response(status=304, headers={"ETag": etag})
    department_id = Recorder.get_by_id(who.recorder.id).department_id
    response = jsonify(fingerprint_payload(comp, department_id, since_param(comp.data_version), request_vault()))
    response.headers["ETag"] = etag
    response.headers["Cache-Control"] = "no-cache"
    return response
