"""Pairing routes (no recorder signature: the kiosk has no certificate yet). See docs/server.md § Pairing.

- ``GET /pair/ca`` → ``{"ca_pem": "..."}``: the server's own CA. The kiosk fetches it without verifying TLS, checks
  it against the check code the manager typed, and from then on verifies the server with it.
- ``POST /pair/redeem`` ``{"code": "ABCD-EFGH"}`` → ``{"connection_string": ..., "certificate": ...}``: a live code
  is used up and its recorder gets a new certificate. Refusals carry catalogue keys: 403 ``pairing_code_invalid``,
  410 ``pairing_code_used`` / ``pairing_code_expired``, 429 ``pairing_locked_out`` (with ``Retry-After``), 403
  ``ip_not_allowed`` (009: the company's allow-list applies here too).

Both answers are ``Cache-Control: no-store``; the code travels only in the body, never in a URL or a log line.
"""
from __future__ import annotations

from flask import Blueprint, Response, g, jsonify, request

from dakoku_server import pairing_store
from dakoku_server.api_base import json_body
from dakoku_server.auth import client_address, ip_allowed
from dakoku_server.db import setting
from dakoku_server.errors import ApiError

pages = Blueprint("pairing", __name__, url_prefix="/pair")
REDEEM_REQUEST = {
    "type": "object",
    "properties": {"code": {"type": "string", "minLength": 1, "maxLength": 64}},
    "required": ["code"],
    "additionalProperties": False,
}


@pages.after_request
def _no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    return response


@pages.get("/ca")
def ca() -> Response:
    ca_pem = setting("ca_pem")
    if not ca_pem:
        raise ApiError(404, "server_error", "pairing_not_available")
    return jsonify({"ca_pem": ca_pem})


def _refused(refusal: pairing_store.Refusal) -> ApiError:
    if refusal.key == "pairing_locked_out":
        return ApiError(429, "pairing_locked_out", refusal.reason, context={"minutes": refusal.minutes},
                        headers={"Retry-After": str(refusal.minutes * 60)})
    if refusal.key == "ip_not_allowed":
        return ApiError(403, "ip_not_allowed", refusal.reason)
    if refusal.key == "pairing_code_used":
        return ApiError(410, "pairing_code_used", refusal.reason)
    if refusal.key == "pairing_code_expired":
        return ApiError(410, "pairing_code_expired", refusal.reason)
    return ApiError(403, "pairing_code_invalid", refusal.reason)


@pages.post("/redeem")
def redeem() -> Response:
    body = json_body(REDEEM_REQUEST)
    address = client_address(request, g.config.auth)
    result = pairing_store.redeem(body["code"], address, allowed=ip_allowed)
    if isinstance(result, pairing_store.Refusal):
        raise _refused(result)
    return jsonify({"connection_string": result.connection_string, "certificate": result.certificate})
