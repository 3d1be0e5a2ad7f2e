"""Outbox drain: N offline punches uploaded by the real SyncService to the reference server over loopback TLS.

On the same run, the floor: the same number of (new) punches, pre-serialised in batches of 500 and POSTed
over one keep-alive TLS connection with only the signature the server requires (no ledger, no retries,
no translation). The ratio says what the kiosk's own logic costs; the baseline says what the server costs
(it is *not* a transport floor: every punch is judged and stored by the server, as in the drain).

The floor is ``resend_duplicates``: the same bodies POSTed again, so each punch is only looked up
(already stored → ``duplicate``). It is TLS + HTTP + signature + nonce + JSON parse and checks + one
UUID query per batch: what any upload of that many punches costs before the server does real work.
It was added when the server still spent ~2 ms per punch, to show that the bare POST was slow
because of the server, not because of gunicorn, TLS or JSON.
Prints ``name: value unit`` lines. Not a test: read the figures, don't assert them.

    python benchmarks/sync_drain.py [--punches 10000] [--employees 100]
"""
from __future__ import annotations

import argparse
import json
import sys
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from demo_server import DemoServer  # noqa: E402
from kiosk.adapters.ledger import SqlitePunchLedger, open_ledger  # noqa: E402
from kiosk.adapters.ledger.outbox import SqliteOutbox  # noqa: E402
from kiosk.adapters.ledger.punch_store import to_utc_text  # noqa: E402
from dakoku_core.protocol.certificate import parse_certificate  # noqa: E402
from dakoku_core.protocol.client import RecorderAuth  # noqa: E402
from dakoku_server import admin  # noqa: E402
from kiosk.services.recorder_api import ClientSlot  # noqa: E402
from kiosk.services.sync import SyncService  # noqa: E402
from tests.sync.harness import Provisioning  # noqa: E402

JST = timezone(timedelta(hours=9))


def wire_punches(keys: list[str], count: int, days_ago: int) -> list[dict]:
    """``count`` valid punches spread over the employees, 3 minutes apart per employee."""
    base = datetime.now(JST).replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=days_ago)
    return [{"uuid": str(uuid.uuid4()), "employee_key": keys[i % len(keys)],
             "kind": "clock_in" if (i // len(keys)) % 2 == 0 else "clock_out",
             "stamped_at": (base + timedelta(minutes=3 * (i // len(keys)))).isoformat(),
             "time_source": "ntp", "offline": True, "auth_method": "card", "recorder_code": "R001"}
            for i in range(count)]


def fill_outbox(ledger_db, punches: list[dict]) -> None:
    now = to_utc_text(datetime.now(timezone.utc))
    rows = [(p["uuid"], p["employee_key"], p["kind"], to_utc_text(datetime.fromisoformat(p["stamped_at"])), 540,
             p["time_source"], 1, p["auth_method"], p["recorder_code"], now, None)   # None: no master_version
            for p in punches]
    with ledger_db.writing():
        ledger_db.db.cursor().executemany(SqlitePunchLedger._INSERT, rows)


def baseline(prov: Provisioning, url: str, ca_file: str, punches: list[dict], expect: str = "accepted") -> float:
    session = requests.Session()
    session.auth = RecorderAuth(parse_certificate(prov.certificate_text))
    bodies = [json.dumps({"punches": punches[i:i + 500]}).encode() for i in range(0, len(punches), 500)]
    started = time.perf_counter()
    for body in bodies:
        response = session.post(url + "v1/punches", data=body, headers={"Content-Type": "application/json"},
                                verify=ca_file, timeout=60)
        assert response.status_code == 200 and all(r["status"] == expect for r in response.json()["results"])
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--punches", type=int, default=10_000)
    parser.add_argument("--employees", type=int, default=100)
    args = parser.parse_args()
    demo_server = DemoServer("sync-drain-")
    work = demo_server.work
    demo = admin.company("DEMO")
    keys = [admin.add_employee(demo, f"B{n:05d}", "試験", "HQ", "FULL").key for n in range(args.employees)]
    server = demo_server.start()
    prov = demo_server.provisioning()
    try:
        bare_punches = wire_punches(keys, args.punches, 800)
        bare = baseline(prov, server.url, server.ca_file, bare_punches)
        resent = baseline(prov, server.url, server.ca_file, bare_punches, expect="duplicate")
        ledger_db = open_ledger(work / "kiosk" / "ledger.sqlite3")
        fill_outbox(ledger_db, wire_punches(keys, args.punches, 400))
        outbox = SqliteOutbox(ledger_db)
        sync = SyncService(outbox, ClientSlot(prov.client(timeout=(5.0, 60.0))), batch_size=500)
        started = time.perf_counter()
        status = sync.drain()
        drained = time.perf_counter() - started
        counts = outbox.counts()
        assert (status.pending, counts.synced) == (0, args.punches), counts
    finally:
        server.stop()
    print(f"sync_drain_{args.punches}: {drained:.2f} s")
    print(f"sync_drain_rate: {args.punches / drained:.0f} punches/s")
    print(f"bare_post_{args.punches}: {bare:.2f} s")
    print(f"bare_post_rate: {args.punches / bare:.0f} punches/s")
    print(f"drain_over_bare: {drained / bare:.2f} x")
    print(f"resend_duplicates_{args.punches}: {resent:.2f} s")


if __name__ == "__main__":
    main()
