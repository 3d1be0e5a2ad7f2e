"""The Recorder API as a Flask application (served by gunicorn with TLS; see dakoku_server.runner).

Routes are registered explicitly: each route module has its own blueprint (signed ``/v1`` routes through
dakoku_server.api_base, public pages with a blueprint of their own), imported here at the top and registered in
:func:`create_app`. No route is added by importing a module (tests/server/test_server_structure.py checks)."""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from flask import Blueprint, Flask, Response, g, request
from werkzeug.exceptions import HTTPException

from dakoku_core.resources import resource_root
from dakoku_server import (
    api_credentials, api_fingerprints, api_identify, api_master, api_presence, api_punches, api_registration, db,
    help_pages, pairing, service_routes, timecard,
)
from dakoku_server.body_limit import DrainOversizedBodies
from dakoku_server.auth import AuthConfig
from dakoku_server.errors import ApiError
from dakoku_server.log_redaction import redact

log = logging.getLogger("dakoku_server")
MAX_BODY_BYTES = 1024 * 1024
DEFAULT_OPENAPI = resource_root() / "docs" / "api" / "openapi.yaml"

# Every blueprint the server serves, in registration order.
SIGNED_API: tuple[Blueprint, ...] = (         # /v1, each request signed (dakoku_server.api_base)
    api_master.blueprint, api_punches.blueprint, api_presence.blueprint, api_registration.blueprint,
    api_credentials.blueprint, api_fingerprints.blueprint, api_identify.blueprint, timecard.links,
)
PUBLIC_PAGES: tuple[Blueprint, ...] = (
    timecard.pages,             # the timecard link the kiosk opens in a browser (its token is the credential)
    help_pages.pages,           # the remedy pages the kiosk's QR codes open
    pairing.pages,              # the kiosk has no certificate yet
    service_routes.pages,       # /openapi.yaml, /healthz
)


@dataclass(frozen=True)
class ServerConfig:
    db_url: str
    auth: AuthConfig = field(default_factory=AuthConfig)
    public_url: str = ""                  # base of timecard links; default: the ``public_url`` set by init --url
    openapi_path: str = str(DEFAULT_OPENAPI)
    template_keys_dir: str = ""           # fingerprint template keys; "" = the SQLite default (template_vault)


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


def create_app(config: ServerConfig) -> Flask:
    app = Flask("dakoku_server")
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
    for blueprint in SIGNED_API + PUBLIC_PAGES:
        app.register_blueprint(blueprint)
    app.wsgi_app = DrainOversizedBodies(app.wsgi_app, MAX_BODY_BYTES)     # so that a client reads the 413
    return app
