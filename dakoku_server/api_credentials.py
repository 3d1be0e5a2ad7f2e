"""An employee's registered credentials, for 設定 › 認証情報 at the kiosk (issue 12, item 6): a lost card can be
listed and deleted without the card itself.

- ``GET /v1/employees/<key>/credentials``: the employee's cards (the server's card reference, when and by which
  recorder it was registered) and enrolled fingers (finger number, when). Only for employees in the recorder's
  scope (own department + help-registered, :mod:`dakoku_server.scope`): another department's employee → 403
  ``auth_failed`` cause C, an unknown one → 404.
- ``DELETE /v1/employees/<key>/credentials/card/<ref>``: deletes that card if it is *this* employee's (a list
  that went stale never deletes someone else's card: it answers ``deleted: false``). It leaves a tombstone, so
  every kiosk drops the card at its next データ更新. Fingers are deleted with ``DELETE /v1/fingerprints/…``.
"""
from __future__ import annotations

import re

import peewee as pw
from flask import Response, jsonify

from dakoku_core.protocol.schemas import REF
from dakoku_server.admin import credential_key
from dakoku_server.api_base import api_blueprint, caller
from dakoku_server.db import (
    Company, Credential, FingerprintTemplate, Recorder, Tombstone, bump_version, write_transaction,
)
from dakoku_server.errors import bad_request
from dakoku_server.scope import scoped_employee

blueprint = api_blueprint("credentials", __name__)


def _utc(at) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%SZ") if at else ""


@blueprint.get("/employees/<employee_key>/credentials")
def employee_credentials(employee_key: str) -> Response:
    who = caller()
    emp = scoped_employee(who.company, who.recorder, employee_key)
    names = {code: name for code, name in Recorder.select(Recorder.code, Recorder.name)
             .where(Recorder.company == who.company).tuples()}
    cards = [{"ref": c.ref, "registered_at": _utc(c.created_at), "recorder_code": c.registered_by,
              "recorder_name": names.get(c.registered_by, "")}
             for c in Credential.select().where((Credential.employee == emp) & (Credential.method == "card"))
             .order_by(Credential.created_at, Credential.id)]
    Row = FingerprintTemplate
    fingers = [{"finger": finger, "registered_at": _utc(at)}
               for finger, at in Row.select(Row.finger, pw.fn.MIN(Row.created_at)).where(Row.employee == emp)
               .group_by(Row.finger).order_by(Row.finger).tuples()]
    return jsonify({"employee_key": emp.key, "cards": cards, "fingers": fingers})


@blueprint.delete("/employees/<employee_key>/credentials/card/<ref>")
def delete_employee_card(employee_key: str, ref: str) -> Response:
    if not re.fullmatch(REF["pattern"].strip("^$"), ref):
        raise bad_request("invalid_credential")
    who = caller()
    with write_transaction():
        emp = scoped_employee(who.company, who.recorder, employee_key)
        comp = Company.get_by_id(emp.company_id)
        deleted = Credential.delete().where((Credential.employee == emp) & (Credential.method == "card")
                                            & (Credential.ref == ref)).execute()
        if deleted:
            Tombstone.create(company=comp, kind="credential", key=credential_key("card", ref),
                             version=bump_version(comp))
    return jsonify({"deleted": bool(deleted), "version": comp.data_version})
