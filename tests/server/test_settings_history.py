"""Issue 9 on the server: a punch is judged with the recorder settings of the master-data version its kiosk
judged it under (``master_version``), not with those in force when it is uploaded (dakoku_server.settings_history).
Also run on PostgreSQL (tests/server_pg/test_pg_server.py imports the upload test)."""
from __future__ import annotations

import sqlite3
import uuid

import pytest

from dakoku_server import admin, db, migrations, recorders
from dakoku_server.settings_history import SettingsHistory

from .test_punches import punch, upload

pytestmark = pytest.mark.timeout(60)


def _pair(employee: dict, stamp, day: int, gap_seconds: int, version) -> tuple[dict, dict]:
    """出勤, then 退勤 ``gap_seconds`` later, both judged at the kiosk under ``version`` (None: not sent)."""
    extra = {} if version is None else {"master_version": version}
    return (punch(employee, stamp(day, 10, 0, 0), "clock_in", **extra),
            punch(employee, stamp(day, 10, gap_seconds // 60, gap_seconds % 60), "clock_out", **extra))


def test_each_punch_is_judged_with_the_settings_of_its_master_version(server, employees, stamp):
    comp = admin.company("DEMO")
    code = f"SH{uuid.uuid4().hex[:6]}"
    client = server.client(recorders.add_recorder(comp, code, "HQ", server_url=server.url).text())
    created = recorders.recorder(comp, code).version                       # the defaults: 60 s
    recorders.set_setting(comp, code, "reauth_interval_seconds", 90)
    raised = admin.company("DEMO").data_version
    recorders.set_setting(comp, code, "reauth_interval_seconds", 30)        # current: 30 s
    current = admin.company("DEMO").data_version
    who = employees["1001"]
    cases = [  # (version the kiosk judged under, seconds between the two punches, second punch's status)
        (None, 45, "accepted"),             # an older kiosk: the current settings (30 s), as before
        (current + 1000, 45, "accepted"),   # a version the company never reached: bogus, the current ones
        (current, 45, "accepted"),          # 30 s
        (raised, 45, "rejected"),           # 90 s were in force at that version
        (raised, 95, "accepted"),
        (created, 45, "rejected"),          # the defaults (60 s) from the recorder's creation
        (created, 65, "accepted"),
        (created - 1, 45, "rejected"),      # before any row: the defaults
    ]
    batch = [p for n, (version, gap, _) in enumerate(cases) for p in _pair(who, stamp, 50 + n, gap, version)]
    results = upload(client, *batch)                                        # one batch: one history load
    assert [r["status"] for r in results[1::2]] == [status for _, _, status in cases]
    assert all(r["status"] == "accepted" for r in results[0::2])
    assert {r["error"]["key"] for r in results[1::2] if r["status"] == "rejected"} == {"already_punched"}


def test_the_history_lookup(server):
    comp = admin.company("DEMO")
    code = f"SL{uuid.uuid4().hex[:6]}"
    recorders.add_recorder(comp, code, "HQ", server_url=server.url)
    rec = recorders.recorder(comp, code)
    created = rec.version
    recorders.set_setting(comp, code, "reauth_interval_seconds", 10)
    recorders.set_setting(comp, code, "show_punch_history", False)         # a row too; the interval stays
    rec = recorders.recorder(comp, code)
    history = SettingsHistory.of(rec, admin.company("DEMO"))
    seconds = [int(history.interval_at(v).total_seconds()) for v in
               (None, 0, created - 1, created, created + 1, created + 2, rec.version + 1)]
    assert seconds == [10, 60, 60, 60, 10, 10, 10]
    assert history.widest({created, None}) == history.interval_at(created)


def test_an_older_database_gets_each_recorders_current_settings_as_its_history(tmp_path, server):
    """Migration step 2: what came before is unknown, so the current settings stand for every version."""
    bound = db.database.obj
    path = tmp_path / "old.sqlite"
    try:
        db.open_database(f"sqlite:///{path}")
        db.create_tables()
        comp = db.Company.create(code="OLD", name="旧", card_key="k" * 43)
        dept = db.Department.create(company=comp, code="HQ", name="本社")
        rec = db.Recorder.create(company=comp, code="R1", department=dept, version=5,
                                 settings_json='{"reauth_interval_seconds": 120}')
        db.database.close()
        with sqlite3.connect(path) as conn:                       # the shape before step 2
            conn.execute("DROP TABLE recordersettingsversion")
            conn.execute("UPDATE serversetting SET value = '1' WHERE name = 'schema_version'")
        db.open_database(f"sqlite:///{path}")
        db.create_tables()
        assert migrations.schema_version() == migrations.SCHEMA_VERSION
        history = SettingsHistory.of(db.Recorder.get_by_id(rec.id), db.Company.get_by_id(comp.id))
        assert [int(history.interval_at(v).total_seconds()) for v in (0, 1, 5)] == [120, 120, 120]
        assert db.migrations.migrate(fresh=False) == []            # once
        assert db.RecorderSettingsVersion.select().count() == 1
        db.database.close()
    finally:
        db.database.initialize(bound)
