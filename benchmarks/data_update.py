"""データ更新 with a large company: N employees (each with a card) on the reference server over loopback TLS.

Figures: a full pull + apply into an empty kiosk ledger (the real DataUpdateService, client and store), an
unchanged update (ETag → 304, nothing written), and an incremental update with one changed employee.
Prints ``name: value unit`` lines. Not a test: read the figures, don't assert them.

    python benchmarks/data_update.py [--employees 10000]
"""
from __future__ import annotations

import argparse
import sys
import time
import uuid
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from demo_server import DemoServer  # noqa: E402
from kiosk.adapters.ledger import SqliteMasterData, open_ledger  # noqa: E402
from kiosk.adapters.ledger.master_sync import SqliteMasterSync  # noqa: E402
from dakoku_core.domain.credentials import card_ref  # noqa: E402
from dakoku_server import admin  # noqa: E402
from dakoku_server.db import (  # noqa: E402
    Company, Credential, Department, Employee, EmploymentType, bump_version, write_transaction,
)
from kiosk.services.data_update import DataUpdateService  # noqa: E402
from kiosk.services.recorder_api import ClientSlot  # noqa: E402


def add_employees(count: int) -> None:
    """Bulk insert straight into the server's tables (the admin functions commit one by one)."""
    demo = admin.company("DEMO")
    hq = Department.get((Department.company == demo) & (Department.code == "HQ"))
    full = EmploymentType.get((EmploymentType.company == demo) & (EmploymentType.code == "FULL"))
    key = admin.card_key(demo)
    with write_transaction():
        version = bump_version(demo)
        employees = [{"company": demo, "key": uuid.uuid4().hex, "code": f"X{n:06d}", "last_name": "試験",
                      "first_name": f"{n}号", "last_name_kana": "シケン", "department": hq, "employment_type": full,
                      "hired_on": date(2020, 4, 1), "version": version} for n in range(count)]
        for start in range(0, count, 500):
            Employee.insert_many(employees[start:start + 500]).execute()
        ids = {e.key: e.id for e in Employee.select(Employee.id, Employee.key).where(Employee.company == demo)}
        cards = [{"company": demo, "employee": ids[e["key"]], "method": "card",
                  "ref": card_ref(key, f"{n:016X}"), "version": version} for n, e in enumerate(employees)]
        for start in range(0, count, 500):
            Credential.insert_many(cards[start:start + 500]).execute()


def timed(fn) -> tuple[float, object]:
    started = time.perf_counter()
    result = fn()
    return time.perf_counter() - started, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--employees", type=int, default=10_000)
    args = parser.parse_args()
    demo = DemoServer("data-update-")
    add_employees(args.employees)
    server = demo.start()
    try:
        prov = demo.provisioning()
        ledger_db = open_ledger(demo.work / "kiosk" / "ledger.sqlite3")
        master = SqliteMasterData(ledger_db)
        client = prov.client(timeout=(5.0, 60.0))
        service = DataUpdateService(SqliteMasterSync(ledger_db, master), ClientSlot(client))
        full_s, full = timed(service.update)
        load_s, _ = timed(lambda: master.employee_by_code_or_login("X000001"))   # first read builds the snapshot
        pull_s, _ = timed(lambda: client.master_data())
        same_s, same = timed(service.update)
        with write_transaction():
            demo = Company.get(Company.code == "DEMO")
            Employee.update(first_name="変更", version=bump_version(demo)).where(Employee.code == "X000002").execute()
        inc_s, inc = timed(service.update)
        assert full.changed and not same.changed and inc.changed and inc.employees == 1
        assert master.employee_by_code_or_login("X000002").first_name == "変更"
    finally:
        server.stop()
    n = args.employees
    print(f"data_update_full_{n}: {full_s:.2f} s")
    print(f"data_update_full_pull_only_{n}: {pull_s:.2f} s")
    print(f"data_update_first_read_after_apply: {load_s * 1000:.0f} ms")
    print(f"data_update_unchanged: {same_s * 1000:.1f} ms")
    print(f"data_update_incremental_one_change_{n}: {inc_s:.2f} s")


if __name__ == "__main__":
    main()
