"""What only the PostgreSQL run checks: the admin CLI on a fresh PostgreSQL database, the unique-constraint
race path of the punch upload (made deterministic), writers serialised by write_transaction, and the
JSON 500 when the database breaks under the server."""
from __future__ import annotations

import threading
import uuid
from datetime import datetime, timedelta, timezone

import pytest

from dakoku_server.api_punches import store_punches
from dakoku_server import migrations
from dakoku_server.db import Company, Punch, Recorder, database, write_transaction
from tests.server.test_admin_cli import run
from tests.server.test_punches import punch, upload

pytestmark = pytest.mark.timeout(180)


def test_operator_cli_on_a_fresh_postgresql_database(postgres_cluster, tmp_path):
    db = postgres_cluster.create_database(f"cli_{uuid.uuid4().hex[:8]}")
    run(db, "init", "--url", "https://attendance.example.jp:8443/")
    run(db, "init", "--url", "https://attendance.example.jp:8444/")          # again: tables exist, URL updated
    run(db, "tls", "init", "--dir", str(tmp_path / "tls"), "--host", "127.0.0.1")
    run(db, "companies", "add", "ACME", "アクメ")
    run(db, "departments", "add", "ACME", "HQ", "本社")
    run(db, "employment-types", "add", "ACME", "PT", "パート", "--no-break-punch")
    run(db, "employees", "add", "ACME", "E1", "--last-name", "山田", "--department", "HQ", "--type", "PT",
        "--hired", "2024-04-01", "--password-punch", "--password-stdin", stdin="s3cret\n")
    assert "password_punch=True" in run(db, "employees", "list", "ACME")
    run(db, "cards", "add", "ACME", "E1", "01:23:45:67:89:AB:CD:EF")
    import subprocess
    import sys
    again = subprocess.run([sys.executable, "-m", "dakoku_server.cli", "--db", db, "cards", "add", "ACME", "E1",
                            "01:23:45:67:89:AB:CD:EF"], capture_output=True, text=True, timeout=60)
    assert again.returncode == 2 and "registered already" in again.stderr and "Traceback" not in again.stderr
    run(db, "ip-allow", "add", "ACME", "192.0.2.10")
    run(db, "ip-allow", "add", "ACME", "192.0.2.10")                          # ON CONFLICT DO NOTHING
    assert run(db, "ip-allow", "list", "ACME").split() == ["192.0.2.10"]
    out = run(db, "recorders", "add", "ACME", "R1", "--department", "HQ")
    assert "https://attendance.example.jp:8444/" in out
    renewed = run(db, "recorders", "renew", "ACME", "R1")
    assert renewed != out and "key=k_" in run(db, "recorders", "list", "ACME")
    run(db, "demo", "--dir", str(tmp_path / "demo"), "--port", "18443")
    assert "1001" in run(db, "employees", "list", "DEMO")


def test_insert_race_falls_back_to_punch_by_punch(server, employees, stamp, postgres_cluster):
    """A row with one of the batch's UUIDs is written (by a writer outside write_transaction) after the
    batch's lookup: the batch's INSERT waits on it, fails on the unique constraint when it commits, and the
    batch is redone punch by punch in savepoints: that UUID is a duplicate, the others are stored."""
    comp = Company.get(Company.code == "DEMO")
    recorder = Recorder.get((Recorder.company == comp) & (Recorder.code == "R001"))
    raced, other = punch(employees["1002"], stamp(40)), punch(employees["1003"], stamp(40))
    stamped_utc = datetime.fromisoformat(raced["stamped_at"]).astimezone(timezone.utc).replace(tzinfo=None)
    sql, params = Punch.insert(
        uuid=raced["uuid"], company=comp.id, recorder=recorder.id, employee=None, employee_key="x", kind="clock_in",
        stamped_at=raced["stamped_at"], stamped_utc=stamped_utc, time_source="ntp", offline=False,
        auth_method="card", status="rejected", error_key="employee_not_found", error_cause="",
        received_at=stamped_utc).sql()
    racer = postgres_cluster.connect("dakoku")
    racer.autocommit = False
    try:
        with racer.cursor() as cur:
            cur.execute(sql, params)                                  # uncommitted: invisible to the lookup
        timer = threading.Timer(1.0, racer.commit)
        timer.start()
        results = store_punches(comp, recorder, [other, raced])
        timer.join()
    finally:
        racer.close()
    assert results[0] == {"uuid": other["uuid"], "status": "accepted"}
    assert (results[1]["status"], results[1]["recorded_status"], results[1]["error"]["key"]) == \
        ("duplicate", "rejected", "employee_not_found")
    for p in (raced, other):
        assert Punch.select().where(Punch.uuid == p["uuid"]).count() == 1


def test_write_transactions_are_serialised(server, employees, stamp):
    """While one write transaction (holding a stored clock-in) is open, another batch waits for it and then
    sees its punch: the re-authentication rule rejects a clock-in 10 s later. (PostgreSQL's READ COMMITTED
    alone would let both in: neither would see the other's uncommitted row.)"""
    comp = Company.get(Company.code == "DEMO")
    recorder = Recorder.get((Recorder.company == comp) & (Recorder.code == "R001"))
    first, second = (punch(employees["1001"], stamp(41, 9, 0, s)) for s in (0, 10))
    stored, release, answers = threading.Event(), threading.Event(), {}

    def hold() -> None:
        try:
            with write_transaction():
                answers["first"] = store_punches(comp, recorder, [first])[0]
                stored.set()
                release.wait(10)
        finally:
            database.close()

    def follow() -> None:
        try:
            answers["second"] = store_punches(comp, recorder, [second])[0]
        finally:
            database.close()

    holder = threading.Thread(target=hold)
    holder.start()
    assert stored.wait(10)
    follower = threading.Thread(target=follow)
    follower.start()
    follower.join(1.0)
    blocked = follower.is_alive()
    release.set()
    holder.join(10)
    follower.join(10)
    assert blocked, "the second write transaction did not wait for the first"
    assert answers["first"]["status"] == "accepted"
    assert (answers["second"]["status"], answers["second"]["error"]["key"]) == ("rejected", "already_punched")


def test_internal_error_is_json_without_traceback(server, client, postgres_cluster):
    since = client.master_data().json()["version"]
    conn = postgres_cluster.connect("dakoku")
    try:
        with conn.cursor() as cur:                                    # break the server's database under it
            cur.execute("ALTER TABLE tombstone RENAME TO tombstone_hidden")
        try:
            response = client.master_data(since=since - 1)
        finally:
            with conn.cursor() as cur:
                cur.execute("ALTER TABLE tombstone_hidden RENAME TO tombstone")
    finally:
        conn.close()
    assert response.status_code == 500
    assert response.headers["Content-Type"].startswith("application/json")
    assert response.json()["error"]["key"] == "server_error"
    assert "Traceback" not in response.text and "tombstone" not in response.text
    assert client.master_data(since=since - 1).status_code == 200


def test_timestamps_are_naive_utc(server, client, employees, stamp):
    p = punch(employees["1003"], stamp(42, 9, 30))
    assert upload(client, p)[0]["status"] == "accepted"
    row = Punch.get(Punch.uuid == p["uuid"])
    expected = datetime.fromisoformat(p["stamped_at"]).astimezone(timezone.utc).replace(tzinfo=None)
    assert row.stamped_utc == expected and row.stamped_utc.tzinfo is None
    assert abs(row.received_at - datetime.now(timezone.utc).replace(tzinfo=None)) < timedelta(minutes=5)


def test_url_with_a_percent_encoded_password_and_a_non_superuser_owner(postgres_cluster):
    from urllib.parse import quote
    role, password, name = f"app_{uuid.uuid4().hex[:8]}", "p@ss/w:rd#%1 ü", f"own_{uuid.uuid4().hex[:8]}"
    conn = postgres_cluster.connect()
    try:
        with conn.cursor() as cur:
            cur.execute(f"CREATE ROLE {role} LOGIN PASSWORD %s", (password,))
            cur.execute(f"CREATE DATABASE {name} OWNER {role}")
    finally:
        conn.close()
    db = f"postgresql://{role}:{quote(password, safe='')}@127.0.0.1:{postgres_cluster.port}/{name}?connect_timeout=5"
    run(db, "init")
    run(db, "companies", "add", "ACME", "アクメ")
    assert "ACME" in run(db, "companies", "list")


def test_an_older_postgresql_database_is_migrated_to_per_company_uuids(postgres_cluster):
    """The schema migration (dakoku_server/migrations.py) on PostgreSQL: a database with the old global
    punch UUID index and no schema version is brought up to date by the next command, once."""
    import psycopg2

    from tests.server.test_admin_cli import run as cli
    url = postgres_cluster.create_database(f"mig_{uuid.uuid4().hex[:8]}")
    cli(url, "init")
    with psycopg2.connect(url) as conn, conn.cursor() as cur:            # the shape before migrations existed
        cur.execute('DROP INDEX "punch_company_id_uuid"')
        cur.execute('CREATE UNIQUE INDEX "punch_uuid" ON "punch" ("uuid")')
        cur.execute("DELETE FROM serversetting WHERE name = 'schema_version'")
    cli(url, "companies", "list")                                          # any command migrates
    with psycopg2.connect(url) as conn, conn.cursor() as cur:
        cur.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'punch'")
        indexes = dict(cur.fetchall())
        cur.execute("SELECT value FROM serversetting WHERE name = 'schema_version'")
        version = cur.fetchone()[0]
    conn.close()
    assert "punch_uuid" not in indexes and "UNIQUE" in indexes["punch_company_id_uuid"]
    assert version == str(migrations.SCHEMA_VERSION)
