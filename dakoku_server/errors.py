"""Errors the Recorder API answers with: a catalogue key, an HTTP status and a short reason word.

Every error response, including 404/405/500, is the JSON body of :mod:`dakoku_core.protocol.error_body`.
Status → key conventions (see docs/server.md):
- 400 malformed request → ``unexpected`` (999: a kiosk bug), 401 request authentication →
  ``certificate_invalid`` (012) or ``auth_failed`` cause B (clock skew), 403 → ``ip_not_allowed`` (009),
  404/405 unknown route → ``server_error`` (007), 404 unknown employee → ``employee_not_found``,
  409 duplicates → ``credential_duplicate`` / ``credential_registered_to_employee``,
  500 → ``server_error`` (007).
"""
from __future__ import annotations

from flask import Response, jsonify

from dakoku_core.errors import KioskError
from dakoku_core.protocol.error_body import error_body


class ApiError(Exception):
    def __init__(self, status: int, key: str, reason: str = "", *, cause_letter: str | None = None,
                 context: dict | None = None, extra: dict | None = None, headers: dict | None = None):
        super().__init__(f"{status} {key} {reason}")
        self.status = status
        self.error = KioskError(key, cause_letter=cause_letter, context=context or {}, detail=reason)
        self.reason = reason or key
        self.extra = extra or {}
        self.headers = headers or {}

    def response(self) -> Response:
        resp = jsonify(error_body(self.error, self.reason, **self.extra))
        resp.status_code = self.status
        resp.headers.update(self.headers)
        return resp


def bad_request(reason: str) -> ApiError:
    return ApiError(400, "unexpected", reason)


def from_kiosk_error(error: KioskError, status: int = 422) -> ApiError:
    return ApiError(status, error.key, error.key, cause_letter=error.cause_letter, context=error.context)
