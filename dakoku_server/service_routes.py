"""Unsigned service routes: ``GET /openapi.yaml`` (the API reference, docs/api/openapi.yaml) and ``GET /healthz``
(the database answers; for a load balancer or systemd's watchdog)."""
from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Response, g

from dakoku_server.db import Company
from dakoku_server.errors import ApiError

pages = Blueprint("service", __name__)


@pages.get("/openapi.yaml")
def openapi() -> Response:
    path = Path(g.config.openapi_path)
    if not path.is_file():
        raise ApiError(404, "server_error", "openapi_not_installed")
    return Response(path.read_text("utf-8"), mimetype="application/yaml")


@pages.get("/healthz")
def healthz() -> Response:
    Company.select().limit(1).count()
    return Response('{"status": "ok"}', mimetype="application/json")
