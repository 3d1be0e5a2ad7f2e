"""The reference server, for real: a temp SQLite DB filled with the admin functions (the demo company
plus what the security tests need), gunicorn in a subprocess serving HTTPS on 127.0.0.1 with a local CA,
and clients that verify TLS against that CA."""
from __future__ import annotations

import os
import subprocess
import sys
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Iterator

import pytest

from dakoku_core.protocol.certificate import parse_certificate
from dakoku_core.protocol.client import RecorderClient
from dakoku_core.protocol.connection import parse_connection_string
from dakoku_server import admin, recorders
from dakoku_server.db import create_tables, open_database
from dakoku_server.demo import create_demo
from tests.support.demo_data import security_recorders
from tests.support.server_process import free_port, stop, wait_ready

JST = timezone(timedelta(hours=9))


@dataclass
class RunningServer:
    url: str
    db_url: str
    db_path: Path
    ca_file: str
    directory: Path
    process: subprocess.Popen
    demo: object
    log_path: Path
    extra: dict
    template_keys: Path

    def client(self, provisioning_text: str) -> RecorderClient:
        connection = parse_connection_string(provisioning_text.split("\n")[1])
        return RecorderClient(connection, parse_certificate(provisioning_text), ca_file=self.ca_file)

    def log(self) -> str:
        return self.log_path.read_text("utf-8", errors="replace")


@contextmanager
def serving(directory: Path, db_url: str, db_path: Path,
            template_keys: Path | None = None) -> Iterator[RunningServer]:
    """The demo company in the database at ``db_url`` (already opened here), served by a real
    ``kiosk-server serve`` subprocess over TLS on loopback; stopped on exit. Shared with tests/server_pg.
    ``template_keys`` is passed as ``--template-keys`` (needed unless the database is SQLite)."""
    port = free_port()
    create_tables()
    demo = create_demo(str(directory / "demo"), port=port)
    extra = security_recorders(port)
    log_path = directory / "server.log"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.pop("DAKOKU_TEMPLATE_KEYS", None)
    keys_option = ["--template-keys", str(template_keys)] if template_keys else []
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "dakoku_server.cli", "--db", db_url, *keys_option, "serve", "--host", "127.0.0.1",
             "--port", str(port), "--tls-dir", str(directory / "demo" / "tls"), "--workers", "2"],
            stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    running = RunningServer(demo.url, db_url, db_path, str(directory / "demo" / "tls" / "ca.pem"), directory,
                            process, demo, log_path, extra, template_keys or db_path.parent / "template-keys")
    try:
        wait_ready(process, demo.url, running.ca_file, log_path.read_text)
        yield running
    finally:
        stop(process, timeout=20)


@pytest.fixture(scope="session")
def server(tmp_path_factory) -> RunningServer:
    directory = tmp_path_factory.mktemp("kiosk-server")
    db_path = directory / "server.sqlite"
    db_url = f"sqlite:///{db_path}"
    open_database(db_url)
    with serving(directory, db_url, db_path) as running:
        yield running


@pytest.fixture(scope="session")
def client(server) -> RecorderClient:
    return server.client((server.demo.directory / "recorder.txt").read_text("utf-8"))


@pytest.fixture(scope="session")
def client_at(server):
    """``client_at(department_code)``: a client of a recorder of the demo company at that department (made on
    first use): what a recorder may do is limited to its department and the employees helped into it."""
    made: dict[str, RecorderClient] = {}

    def at(department: str) -> RecorderClient:
        if department not in made:
            prov = recorders.add_recorder(admin.company("DEMO"), f"AT{department}"[:32], department,
                                          server_url=server.url)
            made[department] = server.client(prov.text())
        return made[department]
    return at


@pytest.fixture(scope="session")
def employees(client) -> dict:
    """Demo employees by code, from a full master-data pull."""
    return {e["code"]: e for e in client.master_data().json()["employees"]}


def _stamp(days_ago: int, hour: int = 9, minute: int = 0, second: int = 0) -> str:
    day = datetime.now(JST) - timedelta(days=days_ago)
    return day.replace(hour=hour, minute=minute, second=second, microsecond=0).isoformat()


@pytest.fixture
def stamp():
    """``stamp(days_ago, hour, minute, second)``: an ISO time (JST) that many days before today. Tests use
    distinct days so the re-authentication interval of one test never meets another test's punch."""
    return _stamp
