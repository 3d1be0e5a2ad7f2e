"""Fixtures for the sync tests: one reference server for the session (demo company + an IP-restricted
company + a recorder to renew), provisioning texts, kiosk ledgers on disk, and the loopback peers."""
from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from kiosk.adapters.ledger import SqliteMasterData, SqlitePunchLedger, open_ledger
from kiosk.adapters.ledger.master_sync import SqliteMasterSync
from kiosk.adapters.ledger.outbox import SqliteOutbox
from dakoku_core.domain.model import AuthMethod, Punch, PunchKind, TimeSource
from dakoku_server import admin
from dakoku_server.db import create_tables, open_database
from dakoku_server.demo import create_demo

from tests.support.demo_data import security_recorders
from tests.support.provisioning import Provisioning
from tests.support.server_process import ServerProcess, free_port

from .harness import ScriptedHttps

JST = timezone(timedelta(hours=9))


@dataclass
class SyncServer:
    process: ServerProcess
    directory: Path
    demo: Provisioning          # DEMO / R001 at HQ
    ipco: Provisioning          # a company whose allow-list does not hold 127.0.0.1
    renewable: Provisioning     # DEMO / R002: its certificate gets renewed by a test
    employee_keys: dict[str, str]

    def bind(self) -> None:
        """Point this process's server models at the session server's database (admin operations)."""
        open_database(self.process.db_url)

    def punch_rows(self, uuids: list[str] | None = None) -> dict[str, int]:
        """uuid → how many rows the server's record holds for it (read straight from its SQLite file)."""
        with sqlite3.connect(self.process.db_path, timeout=15) as db:
            rows = db.execute("SELECT uuid, COUNT(*) FROM punch GROUP BY uuid").fetchall()
        counts = dict(rows)
        return counts if uuids is None else {u: counts.get(u, 0) for u in uuids}


@pytest.fixture(scope="session")
def sync_server(tmp_path_factory) -> SyncServer:
    directory = tmp_path_factory.mktemp("sync-server")
    db_path = directory / "server.sqlite"
    db_url = f"sqlite:///{db_path}"
    port = free_port()
    open_database(db_url)
    create_tables()
    create_demo(str(directory / "demo"), port=port)
    extra = security_recorders(port)
    demo_company = admin.company("DEMO")
    keys = {e.code: e.key for e in admin.Employee.select().where(admin.Employee.company == demo_company)}
    process = ServerProcess(db_url, db_path, directory / "demo" / "tls", port, directory / "server.log")
    process.start()
    server = SyncServer(process, directory,
                        Provisioning.from_text((directory / "demo" / "recorder.txt").read_text("utf-8")),
                        Provisioning.from_text(extra["ipco"]), Provisioning.from_text(extra["renewable"]), keys)
    try:
        yield server
    finally:
        process.stop()


@pytest.fixture
def scripted(sync_server, tmp_path):
    server = ScriptedHttps(sync_server.process.tls_dir, tmp_path)
    try:
        yield server
    finally:
        server.close()


@dataclass
class KioskLedger:
    path: Path
    db: object
    master: SqliteMasterData
    punches: SqlitePunchLedger
    outbox: SqliteOutbox
    store: SqliteMasterSync


@pytest.fixture
def ledger(tmp_path) -> KioskLedger:
    db = open_ledger(tmp_path / "kiosk" / "ledger.sqlite3")
    master = SqliteMasterData(db)
    try:
        yield KioskLedger(db.path, db, master, SqlitePunchLedger(db), SqliteOutbox(db), SqliteMasterSync(db, master))
    finally:
        db.close()


def make_punches(employee_key: str, count: int, *, start_days_ago: int = 400, spacing_minutes: int = 3,
                 recorder: str = "R001") -> list[Punch]:
    """``count`` valid punches of one employee, far enough apart for the re-authentication interval.
    Distinct tests use distinct ``start_days_ago`` so their punches never meet on the server."""
    base = datetime.now(JST).replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=start_days_ago)
    kinds = [PunchKind.CLOCK_IN, PunchKind.CLOCK_OUT]
    return [Punch(employee_key=employee_key, kind=kinds[i % 2], stamped_at=base + timedelta(minutes=spacing_minutes * i),
                  time_source=TimeSource.NTP, offline=True, auth_method=AuthMethod.CARD, recorder_code=recorder)
            for i in range(count)]

