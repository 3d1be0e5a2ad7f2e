"""A private, throw-away PostgreSQL cluster (for tests/server_pg and benchmarks/server_load.py).

``temporary_cluster()`` runs ``initdb`` into a temp dir (as the ``postgres`` user when run as root: PostgreSQL
refuses to run as root), starts it listening only on 127.0.0.1 at a free port and on a Unix socket inside that
dir, creates the database ``dakoku``, and stops and removes it at the end. TCP logins need the generated
password (scram-sha-256); the socket is trust, reachable only through the private dir.
``durable=False`` (tests): fsync off, nothing must survive a crash. ``durable=True`` (the load benchmark):
PostgreSQL's defaults (fsync, synchronous_commit on), as a production server runs.
"""
from __future__ import annotations

import glob
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

try:
    import psycopg2
except ImportError:          # pragma: no cover - depends on the installation
    psycopg2 = None

PG_USER = "postgres"


class ClusterUnavailable(RuntimeError):
    """The PostgreSQL binaries, the driver or a user to run it as are missing (tests skip)."""


def pg_bindir() -> str | None:
    """The newest installed PostgreSQL's bin dir (Debian: /usr/lib/postgresql/N/bin), or one on PATH."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                   key=lambda p: int(p.split("/")[-3]) if p.split("/")[-3].isdigit() else 0)
    if found:
        return os.path.dirname(found[-1])
    on_path = shutil.which("initdb")
    return os.path.dirname(on_path) if on_path else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


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


def _run(cmd: list[str]) -> subprocess.CompletedProcess:
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return done


def _run_as() -> tuple[list[str], pwd.struct_passwd | None]:
    if os.geteuid() != 0:
        return [], None
    try:
        owner = pwd.getpwnam(PG_USER)
    except KeyError:
        raise ClusterUnavailable(f"running as root and there is no {PG_USER!r} user to run PostgreSQL as") from None
    return ["runuser", "-u", PG_USER, "--"], owner


def _options(directory: Path, port: int, durable: bool, max_connections: int) -> str:
    options = (f"-c listen_addresses=127.0.0.1 -c port={port} -c unix_socket_directories={directory} "
               f"-c max_connections={max_connections}")
    if not durable:
        options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    return options


def check_available() -> str:
    """The bin dir; ClusterUnavailable when a cluster cannot be run here."""
    bindir = pg_bindir()
    if bindir is None:
        raise ClusterUnavailable("PostgreSQL server binaries not installed (apt-get install postgresql)")
    if psycopg2 is None:
        raise ClusterUnavailable("PostgreSQL driver not installed (pip install psycopg2-binary)")
    _run_as()
    return bindir


@contextmanager
def temporary_cluster(*, durable: bool = False, max_connections: int = 50) -> Iterator[PgCluster]:
    bindir = check_available()
    as_user, owner = _run_as()
    directory = Path(tempfile.mkdtemp(prefix="dakoku-pg-"))
    data = directory / "data"
    password = secrets.token_hex(16)
    (directory / "pwfile").write_text(password + "\n")
    if owner is not None:
        for path in (directory, directory / "pwfile"):
            os.chown(path, owner.pw_uid, owner.pw_gid)
    port = _free_port()
    cluster = PgCluster(bindir, directory, port, password, as_user)
    pg_ctl = [*as_user, os.path.join(bindir, "pg_ctl"), "-D", str(data)]
    running = False
    try:
        _run([*as_user, os.path.join(bindir, "initdb"), "-D", str(data), "-U", PG_USER, "-E", "UTF8",
              "--locale=C", "--auth-local=trust", "--auth-host=scram-sha-256",
              f"--pwfile={directory / 'pwfile'}", "--no-sync"])
        _run([*pg_ctl, "-w", "-t", "60", "-l", str(directory / "server.log"), "-o",
              _options(directory, port, durable, max_connections), "start"])
        running = True
        cluster.create_database("dakoku")
        yield cluster
    finally:
        if running:
            subprocess.run([*pg_ctl, "-m", "fast", "-w", "stop"], capture_output=True, timeout=60)
        shutil.rmtree(directory, ignore_errors=True)
