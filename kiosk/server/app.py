"""The Recorder API as a Flask application (served by gunicorn with TLS; see kiosk.server.runner)."""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

import jsonschema
from flask import Blueprint, Flask, Response, g, request
from werkzeug.exceptions import HTTPException

from kiosk.server import db, strict_json
from kiosk.server.auth import AuthConfig, Caller, authenticate
from kiosk.server.errors import ApiError, bad_request
from kiosk.server.log_redaction import redact

log = logging.getLogger("kiosk.server")
MAX_BODY_BYTES = 1024 * 1024
DEFAULT_OPENAPI = Path(__file__).resolve().parents[2] / "docs" / "api" / "openapi.yaml"

api = Blueprint("api", __name__, url_prefix="/v1")


@dataclass(frozen=True)
class ServerConfig:
    db_url: str
    auth: AuthConfig = field(default_factory=AuthConfig)
    public_url: str = ""                  # base of timecard links; default: the ``public_url`` set by init --url
    openapi_path: str = str(DEFAULT_OPENAPI)
    template_keys_dir: str = ""           # fingerprint template keys; "" = the SQLite default (template_vault)


def caller() -> Caller:
    return g.caller


def json_body(schema: dict) -> dict:
    """The request's JSON body, checked against ``schema``; a bad body is a 400 ``unexpected``."""
    raw = request.get_data(cache=True)
    try:
        body = strict_json.loads(raw) if raw else {}
    except strict_json.BadJson as exc:
        raise bad_request(exc.reason) from None
    error = jsonschema.exceptions.best_match(_validator(schema).iter_errors(body))
    if error is not None:
        # Where and which rule, never the offending value: it may be a fingerprint template or a password hash.
        where = "/".join(str(p) for p in error.absolute_path) or "(body)"
        raise bad_request(f"invalid_body: {where}: {error.validator}")
    return body


_VALIDATORS: dict[int, object] = {}


def _validator(schema: dict):
    """One compiled validator per schema (compiling per request cost ~5 ms of a 25 ms punch batch)."""
    validator = _VALIDATORS.get(id(schema))
    if validator is None:
        cls = jsonschema.validators.validator_for(schema)
        cls.check_schema(schema)
        validator = _VALIDATORS[id(schema)] = cls(schema, format_checker=jsonschema.FormatChecker())
    return validator


@api.before_request
def _authenticate() -> None:
    skip_window = request.method == "GET" and request.path.rstrip("/") == "/v1/time"
    g.caller = authenticate(request, g.config.auth, time.time(), skip_window=skip_window)


def _open_db() -> None:
    db.database.connect(reuse_if_open=True)


def _close_db(_exc: BaseException | None) -> None:
    if not db.database.is_closed():
        db.database.close()


def _http_error(exc: HTTPException) -> Response:
    if exc.code in (404, 405):
        return ApiError(exc.code, "server_error", "not_found" if exc.code == 404 else "method_not_allowed").response()
    if exc.code and exc.code < 500:
        return ApiError(exc.code, "unexpected", (exc.name or "bad_request").lower().replace(" ", "_")).response()
    return ApiError(exc.code or 500, "server_error", "internal_error").response()


def _unhandled(exc: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, redact(request.path))
    return ApiError(500, "server_error", "internal_error").response()


def _register_routes(app: Flask) -> None:
    from kiosk.server import api_fingerprints, api_master, api_punches, api_registration, timecard  # noqa: F401
    from kiosk.server import api_identify  # noqa: F401
    from kiosk.server import api_credentials, api_presence  # noqa: F401
    app.register_blueprint(api)
    app.register_blueprint(timecard.pages)
    from kiosk.server import help_pages  # noqa: E402 - public: the remedy pages the kiosk's QR codes open
    app.register_blueprint(help_pages.pages)
    from kiosk.server import pairing  # noqa: E402 - unauthenticated: the kiosk has no certificate yet
    app.register_blueprint(pairing.pages)

    @app.get("/openapi.yaml")
    def openapi() -> Response:
        path = Path(app.config["SERVER"].openapi_path)
        if not path.is_file():
            raise ApiError(404, "server_error", "openapi_not_installed")
        return Response(path.read_text("utf-8"), mimetype="application/yaml")

    @app.get("/healthz")
    def healthz() -> Response:
        db.Company.select().limit(1).count()
        return Response('{"status": "ok"}', mimetype="application/json")


def create_app(config: ServerConfig) -> Flask:
    app = Flask("kiosk.server")
    app.config.update(SERVER=config, MAX_CONTENT_LENGTH=MAX_BODY_BYTES, JSON_AS_ASCII=False)
    app.json.ensure_ascii = False
    db.open_database(config.db_url)

    @app.before_request
    def _prepare() -> None:
        g.config = config
        _open_db()

    app.teardown_request(_close_db)
    app.register_error_handler(ApiError, lambda exc: exc.response())
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unhandled)
    _register_routes(app)
    return app
