"""What every signed Recorder API module shares: its blueprint (``/v1``, the request signature checked before
any route runs), the calling recorder, and the checked JSON body.

Each route module makes its own blueprint with :func:`api_blueprint` and decorates its routes on it; the app
(dakoku_server.app) imports the route modules at its top and registers their blueprints by name, so a route
exists because the app registers it, never because some module happened to be imported first.
"""
from __future__ import annotations

import logging
import time

import jsonschema
from flask import Blueprint, g, request

from dakoku_server import strict_json
from dakoku_server.auth import Caller, authenticate
from dakoku_server.errors import ApiError, bad_request
from dakoku_server.template_vault import TemplateVault, resolve_keys_dir, vault_at

log = logging.getLogger("dakoku_server")
API_PREFIX = "/v1"


def api_blueprint(name: str, import_name: str) -> Blueprint:
    """A blueprint of signed routes under ``/v1``: each request is authenticated before its route runs."""
    blueprint = Blueprint(name, import_name, url_prefix=API_PREFIX)
    blueprint.before_request(authenticate_request)
    return blueprint


def authenticate_request() -> None:
    """Signature, timestamp window, key and IP allow-list (dakoku_server.auth); GET /v1/time skips the window,
    so that a kiosk with a wrong clock can still read the server's."""
    skip_window = request.method == "GET" and request.path.rstrip("/") == f"{API_PREFIX}/time"
    g.caller = authenticate(request, g.config.auth, time.time(), skip_window=skip_window)


def caller() -> Caller:
    return g.caller


def json_body(schema: dict) -> dict:
    """The request's JSON body, checked against ``schema``; a bad body is a 400 ``unexpected``."""
    raw = request.get_data(cache=True)
    try:
        body = strict_json.loads(raw) if raw else {}
    except strict_json.BadJson as exc:
        raise bad_request(exc.reason) from None
    error = jsonschema.exceptions.best_match(validator_of(schema).iter_errors(body))
    if error is not None:
        raise bad_request(f"invalid_body: {schema_error_reason(error)}")
    return body


def schema_error_reason(error: jsonschema.ValidationError) -> str:
    """Where and which rule, never the offending value: it may be a fingerprint template, a card ID or a
    password hash (jsonschema's own message quotes the value)."""
    where = "/".join(str(p) for p in error.absolute_path) or "(body)"
    return f"{where}: {error.validator}"


_VALIDATORS: dict[int, object] = {}


def validator_of(schema: dict):
    """One compiled validator per schema (compiling per request cost ~5 ms of a 25 ms punch batch)."""
    validator = _VALIDATORS.get(id(schema))
    if validator is None:
        cls = jsonschema.validators.validator_for(schema)
        cls.check_schema(schema)
        validator = _VALIDATORS[id(schema)] = cls(schema, format_checker=jsonschema.FormatChecker())
    return validator


def request_vault() -> TemplateVault:
    """The vault that seals fingerprint templates, from the server's configuration (``--template-keys``)."""
    keys_dir = resolve_keys_dir(g.config.db_url, g.config.template_keys_dir)
    if keys_dir is None:
        log.error("no template keys directory: start the server with --template-keys DIR")
        raise ApiError(500, "server_error", "template_keys_not_configured")
    return vault_at(keys_dir)
