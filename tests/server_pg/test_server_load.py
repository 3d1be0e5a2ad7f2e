"""The load test's short form (the long form: benchmarks/server_load.py, 200 kiosks x 200 punches): 10 kiosks, each
with its own recorder key, pull master data and upload a 20-punch backlog through the kiosk's own client and
sync code, all at once, against gunicorn with 4 workers on a fresh PostgreSQL database. Counted in the database
afterwards: every punch sent was acknowledged and stored exactly once, with the status the kiosk was told."""
from __future__ import annotations

import pytest

from dakoku_server.db import database
from tests.support.server_process import free_port
from tests.server_pg.fleet_setup import FleetShape, fleet_server, provision
from tests.server_pg.kiosk_fleet import count_in_database, drive

KIOSKS, PUNCHES = 10, 20


@pytest.fixture
def models_restored():
    """provision() binds the server models to the fleet's database: rebind what was bound before after."""
    previous = database.obj
    yield
    database.close()
    if previous is not None:
        database.initialize(previous)


@pytest.mark.timeout(240)
def test_ten_kiosks_at_once_lose_and_duplicate_nothing(postgres_cluster, tmp_path, models_restored):
    db_url = postgres_cluster.create_database("fleet")
    port = free_port()
    plans = provision(db_url, tmp_path, port, FleetShape(kiosks=KIOSKS, companies=3, employees_per_kiosk=4))
    assert len({p.provisioning_text for p in plans}) == KIOSKS
    database.close()
    server = fleet_server(db_url, tmp_path, port, workers=4, threads=4)
    server.start()
    try:
        run = drive(plans, server.ca_file, punches=PUNCHES, batch_size=8, ramp=0.0)
    finally:
        server.stop()
    count = count_in_database(run)
    assert not run.errors, dict(run.errors)
    assert (count.sent, count.acknowledged, count.unacknowledged) == (KIOSKS * PUNCHES,) * 2 + (0,)
    assert (count.lost, count.duplicated, count.mismatched) == (0, 0, 0), count
    assert count.stored_statuses == {"accepted": KIOSKS * PUNCHES}, count.stored_statuses
    uploads = [s for kind, s in run.latencies if kind == "punches"]
    assert len(uploads) == KIOSKS * 3                    # 20 punches in batches of 8: 8 + 8 + 4 per kiosk
    assert sum(kind == "master" for kind, _ in run.latencies) == KIOSKS
