"""Secrets at rest (issue 10, item 3): the database (with -wal/-shm), the CA key, the template keys and every
secret file the server writes are 0600, their folders 0700, whatever the umask; and the schema migration that
makes punch UUIDs unique per company (item 5) upgrades an older database in place."""
from __future__ import annotations

import os
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from dakoku_server import db, migrations
from dakoku_server.template_vault import vault_at

pytestmark = pytest.mark.timeout(180)


@pytest.fixture(autouse=True)
def keep_the_session_database():
    """These tests bind the server models to their own files; the session server's binding comes back after."""
    saved = db.database.obj
    yield
    if not db.database.is_closed():
        db.database.close()
    if saved is not None:
        db.database.initialize(saved)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def cli(db_url: str, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ}
    env.pop("DAKOKU_TEMPLATE_KEYS", None)
    done = subprocess.run([sys.executable, "-m", "dakoku_server.cli", "--db", db_url, *args], capture_output=True,
                          text=True, timeout=120, env=env, umask=0o022)     # the usual, permissive umask
    assert done.returncode == 0, done.stderr
    return done


def test_init_makes_the_database_private_whatever_the_umask(tmp_path):
    path = tmp_path / "var" / "dakoku" / "server.sqlite"
    cli(f"sqlite:///{path}", "init", "--url", "https://kiosk.example:8443/")
    assert mode(path) == 0o600
    assert mode(path.parent) == 0o700 and mode(path.parent.parent) == 0o700   # folders created for it
    assert not [p for p in path.parent.iterdir() if mode(p) & 0o077]


def test_an_existing_world_readable_database_is_closed_up(tmp_path):
    path = tmp_path / "server.sqlite"
    path.touch()
    os.chmod(path, 0o644)
    Path(f"{path}-wal").touch()
    os.chmod(f"{path}-wal", 0o644)
    cli(f"sqlite:///{path}", "init")
    assert mode(path) == 0o600
    assert not Path(f"{path}-wal").exists() or mode(Path(f"{path}-wal")) == 0o600


def test_wal_and_shm_of_a_live_database_are_private(tmp_path):
    old = os.umask(0o022)
    try:
        path = tmp_path / "live" / "server.sqlite"
        db.open_database(f"sqlite:///{path}")
        db.create_tables()
        db.database.connect(reuse_if_open=True)
        db.set_setting("probe", "1")                                    # a write: -wal and -shm exist now
        wal, shm = Path(f"{path}-wal"), Path(f"{path}-shm")
        assert wal.exists() and shm.exists()
        assert (mode(path), mode(wal), mode(shm), mode(path.parent)) == (0o600, 0o600, 0o600, 0o700)
    finally:
        os.umask(old)
        db.database.close()


def test_demo_writes_every_secret_privately(tmp_path):
    path = tmp_path / "db" / "server.sqlite"
    cli(f"sqlite:///{path}", "demo", "--dir", str(tmp_path / "demo"))
    demo = tmp_path / "demo"
    assert mode(demo) == 0o700 and mode(demo / "tls") == 0o700
    for name in ("recorder.txt", "certificate.txt", "connection.txt", "demo.json", "cards.txt", "tls/ca.key",
                 "tls/server.key"):
        assert mode(demo / name) == 0o600, name
    assert mode(path) == 0o600 and mode(path.parent) == 0o700


def test_template_keys_are_private_whatever_the_umask(tmp_path):
    old = os.umask(0o022)
    try:
        keys = tmp_path / "keys"
        vault_at(str(keys))
    finally:
        os.umask(old)
    assert mode(keys) == 0o700
    assert [p.name for p in keys.iterdir() if mode(p) != 0o600] == []


def test_an_older_database_is_migrated_to_per_company_uuids(tmp_path):
    path = tmp_path / "old.sqlite"
    db.open_database(f"sqlite:///{path}")
    db.create_tables()
    db.database.close()
    with sqlite3.connect(path) as conn:                        # the shape before migrations existed
        conn.execute('DROP INDEX "punch_company_id_uuid"')
        conn.execute('CREATE UNIQUE INDEX "punch_uuid" ON "punch" ("uuid")')
        conn.execute("DELETE FROM serversetting WHERE name = 'schema_version'")
    db.open_database(f"sqlite:///{path}")
    assert migrations.schema_version() == 0
    db.create_tables()
    assert migrations.schema_version() == migrations.SCHEMA_VERSION
    db.database.close()
    with sqlite3.connect(path) as conn:
        indexes = {name: sql for name, sql in conn.execute("SELECT name, sql FROM sqlite_master WHERE type='index' "
                                                           "AND tbl_name='punch'")}
    assert "punch_uuid" not in indexes
    assert "UNIQUE" in indexes["punch_company_id_uuid"]
    db.open_database(f"sqlite:///{path}")
    assert db.migrations.migrate(fresh=False) == []                 # a second start runs nothing
    db.database.close()
