"""The fingerprint endpoints of the Recorder API (/tmp contract "fingerprint templates", docs/sync.md), mixed into
:class:`kiosk.adapters.recorder_client.KioskRecorderClient` so they share its retries and error translation.

Templates travel as standard, padded base64 of ``FingerprintTemplate.to_bytes()``. An answer is checked whole
before anything is returned: a missing field, bad base64, an oversized or undecodable template, a template
without minutiae or a finger outside 0-9 make the whole answer ``server_error`` (007), so the store never applies
part of a broken answer.
"""
from __future__ import annotations

import base64
import binascii
from typing import Callable
from urllib.parse import quote

from kiosk.adapters.master_payload import _get, _list, _Shape, _text
from dakoku_core.errors import KioskError, Situation
from dakoku_core.protocol.schemas import MAX_SUB_TEMPLATES, MAX_TEMPLATE_BYTES
from kiosk.ports.recorder_api import DeletedFinger, FingerprintSnapshot, RegisteredFinger, ServerFinger

FINGERS = range(10)


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


class FingerprintEndpoints:
    """Needs ``_call``, ``_json`` and ``_guard`` of the client it is mixed into."""

    _call: Callable
    _json: Callable
    _guard: Callable

    def register_fingerprint(self, employee_key: str, finger: int | None, templates: list[bytes],
                             situation: Situation | None = Situation.REGISTRATION) -> RegisteredFinger:
        """POST /v1/fingerprints (``finger`` None: a new finger, numbered by the server). Company-wide duplicate
        checks happen on the server: 409 → credential_duplicate or credential_registered_to_employee (with name
        and code). Returns the finger number and its version."""
        def run() -> RegisteredFinger:
            body = {"employee_key": employee_key,
                    "templates": [base64.b64encode(bytes(t)).decode("ascii") for t in templates]}
            if finger is not None:
                body["finger"] = int(finger)
            answer = self._json(self._call("POST", "v1/fingerprints", situation, json=body), situation)
            number = answer.get("finger") if isinstance(answer, dict) else None
            if (not isinstance(answer, dict) or answer.get("registered") is not True or not _is_int(number)
                    or not 0 <= number <= 9 or (finger is not None and number != finger)):
                raise KioskError("server_error", situation=situation, detail="bad /v1/fingerprints answer")
            version = answer.get("version")
            return RegisteredFinger(number, version if _is_int(version) else None)
        return self._guard(run, situation)

    def delete_fingerprint(self, employee_key: str, finger: int,
                           situation: Situation | None = Situation.REGISTRATION) -> bool:
        """DELETE /v1/fingerprints/<employee>/<finger>; False when the server held no such finger."""
        def run() -> bool:
            path = f"v1/fingerprints/{quote(employee_key, safe='')}/{int(finger)}"
            answer = self._json(self._call("DELETE", path, situation), situation)
            return bool(isinstance(answer, dict) and answer.get("deleted"))
        return self._guard(run, situation)

    def fingerprints(self, *, since: int | None = None, etag: str | None = None,
                     situation: Situation | None = Situation.DATA_UPDATE) -> FingerprintSnapshot | None:
        """GET /v1/fingerprints?since=N with If-None-Match; None on 304."""
        def run() -> FingerprintSnapshot | None:
            path = "v1/fingerprints" + (f"?since={int(since)}" if since else "")
            headers = {"If-None-Match": etag} if etag else None
            response = self._call("GET", path, situation, headers=headers)
            if response.status_code == 304:
                return None
            return fingerprints_from_payload(self._json(response, situation), response.headers.get("ETag", ""),
                                             situation)
        return self._guard(run, situation)


def fingerprints_from_payload(body: object, etag: str, situation: Situation | None) -> FingerprintSnapshot:
    """The answer of GET /v1/fingerprints, checked whole; anything malformed → ``server_error`` (007)."""
    try:
        return FingerprintSnapshot(
            version=_version(body, "version"), etag=etag, full=_get(body, "full", bool),
            fingers=tuple(_finger(row) for row in _list(body, "fingers")),
            deleted=tuple(DeletedFinger(_text(row, "employee_key"), _finger_number(row), _version(row, "version"))
                          for row in _list(body, "deleted")))
    except (_Shape, ValueError, TypeError) as exc:   # binascii.Error and TemplateFormatError are ValueErrors
        raise KioskError("server_error", situation=situation, detail=f"fingerprints: {exc}"[:300]) from None


def _version(obj: object, name: str) -> int:
    value = _get(obj, name, int)
    if value < 0:
        raise _Shape(f"{name!r} is negative")
    return value


def _finger_number(row: object) -> int:
    finger = _get(row, "finger", int)
    if finger not in FINGERS:
        raise _Shape(f"finger {finger} is not 0-9")
    return finger


def _finger(row: object) -> ServerFinger:
    employee_key = _text(row, "employee_key")
    if not employee_key:
        raise _Shape("empty employee_key")
    encoded = _list(row, "templates")
    if not 1 <= len(encoded) <= MAX_SUB_TEMPLATES:
        raise _Shape(f"{len(encoded)} sub-templates")
    return ServerFinger(employee_key, _finger_number(row), _version(row, "version"),
                        tuple(decode_template(text) for text in encoded))


def decode_template(text: object):
    """One base64 template → FingerprintTemplate (ValueError / _Shape when it is not a usable one)."""
    from dakoku_core.fingerprint.template import FingerprintTemplate

    if not isinstance(text, str):
        raise _Shape("a template is not a string")
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError) as exc:
        raise _Shape(f"bad base64: {exc}") from None
    if len(raw) > MAX_TEMPLATE_BYTES:
        raise _Shape(f"a template of {len(raw)} bytes")
    template = FingerprintTemplate.from_bytes(raw)
    if len(template) == 0:
        raise _Shape("a template without minutiae")
    return template
