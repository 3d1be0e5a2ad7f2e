"""POST /v1/fingerprints/identify: a finger that matched nobody at the kiosk — is it enrolled for an employee of the
company who may not punch at this recorder's department?

A kiosk holds only the fingers of its recorder's scope (its department's employees and those help-registered to
it: docs/fingerprint.md § Privacy), so it cannot tell a stranger's finger (「認証に失敗しました」 cause A, register
again) from the finger of another department's employee (cause C, ヘルプ登録, the advice that helps). Asked after a
failed 1:N search, the server searches the company's fingers *outside* that scope and answers only
``{"match": "outside_scope"}`` (exactly one such employee above the identify threshold, and the top-two margin
above the next, and the company gallery's own strangers' tail where heavier than the table's: the kiosk's own
rule) or ``{"match": "none"}``:
never who it is. The probe is the kiosk's MCC cylinder code (:mod:`dakoku_core.fingerprint.code_codec`, base64), used
for this search and dropped, never stored or logged.
"""
from __future__ import annotations

import base64
import binascii
import logging

from flask import Response, jsonify

from dakoku_core.errors import KioskError
from dakoku_core.fingerprint.code_codec import CodeFormatError, decode_code
from dakoku_core.fingerprint.identify import FingerprintIdentifier
from dakoku_server import api_fingerprints
from dakoku_server.api_base import api_blueprint, caller, json_body, request_vault
from dakoku_server.db import Company, Employee, Recorder
from dakoku_server.errors import bad_request
from dakoku_server.fingerprint_gallery import GALLERIES
from dakoku_server.scope import in_scope_ids

blueprint = api_blueprint("identify", __name__)
log = logging.getLogger("dakoku_server")
MAX_CODE_BYTES = 256 * 1024
IDENTIFY_REQUEST = {
    "type": "object",
    "required": ["code"],
    "properties": {"code": {"type": "string", "minLength": 1, "maxLength": MAX_CODE_BYTES * 4 // 3 + 4}},
    "additionalProperties": False,
}


def _probe(text: str):
    try:
        code = decode_code(base64.b64decode(text, validate=True))
    except (binascii.Error, CodeFormatError, ValueError):
        raise bad_request("invalid_template") from None
    if len(code) == 0:
        raise bad_request("invalid_template")
    return code


def in_scope_keys(recorder: Recorder) -> set[str]:
    """The employees who may punch at the recorder (dakoku_server.scope): its department's and those
    help-registered to it."""
    return {key for (key,) in Employee.select(Employee.key).where(Employee.id.in_(in_scope_ids(recorder))).tuples()}


@blueprint.post("/fingerprints/identify")
def identify_outside_scope() -> Response:
    probe = _probe(json_body(IDENTIFY_REQUEST)["code"])
    who = caller()
    company = Company.get_by_id(who.company.id)
    # the gallery's own strangers too, as at the kiosk (its newest finished self-check)
    identifier = GALLERIES.identifier(company, request_vault(), lambda gallery: FingerprintIdentifier(
        gallery, api_fingerprints.MATCHER, pattern_limit=len(gallery) + 1))
    scope = in_scope_keys(Recorder.get_by_id(who.recorder.id))
    outside = identifier.gallery.employees() - scope
    try:
        with GALLERIES.foreground():     # a kiosk's employee waits: the self-check pauses between its searches
            identifier.identify(probe, outside)
        match = "outside_scope"
    except KioskError:          # nobody above the threshold, several, or one within the margin: the kiosk keeps A
        match = "none"
    log.info("finger identify outside the scope of %s/%s: %s", company.code, who.recorder.code, match)
    return jsonify({"match": match})
