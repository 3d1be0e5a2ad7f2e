"""The reference server on PostgreSQL: a private, throw-away cluster for the session.

``postgres_cluster`` runs ``initdb`` into a temp dir (as the ``postgres`` user when the tests run as root:
PostgreSQL refuses to run as root), starts it listening only on 127.0.0.1 at a free port and on a Unix
socket inside that dir (fsync off: nothing here must survive a crash), and stops and removes it at the end.
TCP logins need the generated password (scram-sha-256); the socket is trust, reachable only through the
private dir. Skipped only when the PostgreSQL binaries or the psycopg2 driver are missing.

The ``server`` fixture mirrors tests/server's (same demo data, same gunicorn over TLS) with a
``postgresql://`` URL, so the tests/server modules' tests run here unchanged (see the test modules).
"""
from __future__ import annotations

import glob
import os
import pwd
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from kiosk.server import db as server_db
from kiosk.server.db import open_database
from tests.server.conftest import (  # noqa: F401  (fixtures re-exported for the reused tests)
    RunningServer, client, client_at, employees, free_port, serving, stamp,
)

try:
    import psycopg2
except ImportError:          # pragma: no cover - depends on the installation
    psycopg2 = None

PG_USER = "postgres"


def _pg_bindir() -> str | None:
    """The newest installed PostgreSQL's bin dir (Debian: /usr/lib/postgresql/N/bin), or one on PATH."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                   key=lambda p: int(p.split("/")[-3]) if p.split("/")[-3].isdigit() else 0)
    if found:
        return os.path.dirname(found[-1])
    on_path = shutil.which("initdb")
    return os.path.dirname(on_path) if on_path else None


@dataclass
class PgCluster:
    bindir: str
    directory: Path
    port: int
    password: str
    as_user: list[str]

    def url(self, dbname: str) -> str:
        return f"postgresql://{PG_USER}:{self.password}@127.0.0.1:{self.port}/{dbname}"

    def connect(self, dbname: str = "postgres"):
        conn = psycopg2.connect(host="127.0.0.1", port=self.port, user=PG_USER, password=self.password,
                                dbname=dbname)
        conn.autocommit = True
        return conn

    def create_database(self, name: str) -> str:
        """A new empty database; returns its URL."""
        conn = self.connect()
        try:
            with conn.cursor() as cur:
                cur.execute(f'CREATE DATABASE "{name}"')
        finally:
            conn.close()
        return self.url(name)


def _run(cmd: list[str], **kwargs) -> subprocess.CompletedProcess:
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120, **kwargs)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return done


@pytest.fixture(scope="session")
def postgres_cluster():
    bindir = _pg_bindir()
    if bindir is None:
        pytest.skip("PostgreSQL server binaries not installed (apt-get install postgresql)")
    if psycopg2 is None:
        pytest.skip("PostgreSQL driver not installed (pip install psycopg2-binary)")
    as_user: list[str] = []
    owner = None
    if os.geteuid() == 0:                       # initdb/postgres refuse to run as root
        try:
            owner = pwd.getpwnam(PG_USER)
        except KeyError:
            pytest.skip(f"running as root and there is no {PG_USER!r} user to run PostgreSQL as")
        as_user = ["runuser", "-u", PG_USER, "--"]
    started = time.monotonic()
    directory = Path(tempfile.mkdtemp(prefix="dakoku-pg-"))
    data = directory / "data"
    password = secrets.token_hex(16)
    (directory / "pwfile").write_text(password + "\n")
    if owner is not None:
        for path in (directory, directory / "pwfile"):
            os.chown(path, owner.pw_uid, owner.pw_gid)
    port = free_port()
    cluster = PgCluster(bindir, directory, port, password, as_user)
    pg_ctl = [*as_user, os.path.join(bindir, "pg_ctl"), "-D", str(data)]
    running = False
    try:
        _run([*as_user, os.path.join(bindir, "initdb"), "-D", str(data), "-U", PG_USER, "-E", "UTF8",
              "--locale=C", "--auth-local=trust", "--auth-host=scram-sha-256",
              f"--pwfile={directory / 'pwfile'}", "--no-sync"])
        options = (f"-c listen_addresses=127.0.0.1 -c port={port} -c unix_socket_directories={directory} "
                   "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=50")
        _run([*pg_ctl, "-w", "-t", "60", "-l", str(directory / "server.log"), "-o", options, "start"])
        running = True
        cluster.create_database("dakoku")
        print(f"\nPostgreSQL cluster ready in {time.monotonic() - started:.2f}s "
              f"(127.0.0.1:{port}, {directory})", file=sys.stderr)
        yield cluster
    finally:
        if running:
            subprocess.run([*pg_ctl, "-m", "fast", "-w", "stop"], capture_output=True, timeout=60)
        shutil.rmtree(directory, ignore_errors=True)


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
