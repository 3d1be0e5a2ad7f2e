"""The reference server on PostgreSQL: a private, throw-away cluster for the session.

``postgres_cluster`` is tests/server_pg/cluster.py's ``temporary_cluster`` (initdb into a temp dir, loopback
only, fsync off: nothing here must survive a crash), for the session. Skipped only when the PostgreSQL
binaries or the psycopg2 driver are missing.

The ``server`` fixture mirrors tests/server's (same demo data, same gunicorn over TLS) with a
``postgresql://`` URL, so the tests/server modules' tests run here unchanged (see the test modules).
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest

from dakoku_server import db as server_db
from dakoku_server.db import open_database
from tests.server.conftest import (  # noqa: F401  (fixtures re-exported for the reused tests)
    RunningServer, client, client_at, employees, free_port, serving, stamp,
)
from tests.server_pg.cluster import ClusterUnavailable, PgCluster, check_available, temporary_cluster  # noqa: F401


@pytest.fixture(scope="session")
def postgres_cluster():
    try:
        check_available()
    except ClusterUnavailable as exc:
        pytest.skip(str(exc))
    started = time.monotonic()
    with temporary_cluster() as cluster:
        print(f"\nPostgreSQL cluster ready in {time.monotonic() - started:.2f}s "
              f"(127.0.0.1:{cluster.port}, {cluster.directory})", file=sys.stderr)
        yield cluster


@pytest.fixture(scope="session")
def server(tmp_path_factory, postgres_cluster) -> RunningServer:
    """tests/server's ``server`` fixture with its database on PostgreSQL."""
    directory = tmp_path_factory.mktemp("kiosk-server-pg")
    db_url = postgres_cluster.url("dakoku")
    previous = server_db.database.obj
    open_database(db_url)
    try:
        with serving(directory, db_url, Path(), template_keys=directory / "template-keys") as running:
            running.extra["cluster"] = postgres_cluster
            yield running
    finally:
        server_db.database.obj.close()
        if previous is not None:
            server_db.database.initialize(previous)


@pytest.fixture(autouse=True)
def _models_on_postgres(request):
    """Tests that read the models directly (``Punch.select()``) read the PostgreSQL server's database,
    even when a tests/server (SQLite) session server was set up in the same run."""
    if "server" not in request.fixturenames:
        yield
        return
    running = request.getfixturevalue("server")
    previous = server_db.database.obj
    if not isinstance(previous, server_db.pw.PostgresqlDatabase):
        open_database(running.db_url)
    yield
    if previous is not None and server_db.database.obj is not previous:
        server_db.database.obj.close()
        server_db.database.initialize(previous)
