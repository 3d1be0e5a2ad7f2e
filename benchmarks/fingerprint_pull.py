"""Fingerprints on データ更新: N enrolled fingers (3 sub-templates each) of one department on the reference server
over loopback TLS, pulled by a kiosk of that department (the real client, FingerprintSync and sealed store).

Figures: a full pull + apply into an empty kiosk (templates re-sealed with the kiosk's key, codes encoded and
sealed), a cold gallery load (what a restart pays: decrypt the stored codes, stack the prefilter), an unchanged
pull (ETag → 304), and a pull with one changed finger while the gallery is loaded. The server's rows are written
straight into its tables (sealed with its own keys), as many registrations would have left them.
Prints ``name: value unit`` lines. Not a test: read the figures, don't assert them.

    OPENBLAS_NUM_THREADS=1 python benchmarks/fingerprint_pull.py [--fingers 1000]
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from data_update import add_employees, timed  # noqa: E402
from demo_server import DemoServer  # noqa: E402
from kiosk.adapters.ledger import SqliteMasterData, open_ledger  # noqa: E402
from kiosk.adapters.ledger.fingerprint_store import SqliteFingerprintStore  # noqa: E402
from kiosk.adapters.ledger.master_sync import SqliteMasterSync  # noqa: E402
from dakoku_core.fingerprint import Matcher, StaticKeyProvider, TemplateCipher  # noqa: E402
from dakoku_core.fingerprint.synth import minutiae_template  # noqa: E402
from dakoku_server import admin  # noqa: E402
from dakoku_server.db import Company, Employee, FingerprintTemplate, bump_version, write_transaction  # noqa: E402
from dakoku_server.template_vault import binding, vault_at  # noqa: E402
from kiosk.services.data_update import DataUpdateService  # noqa: E402
from kiosk.services.fingerprint_sync import FingerprintSync  # noqa: E402
from kiosk.services.recorder_api import ClientSlot  # noqa: E402

SUB_TEMPLATES = 3
FIRST_SEED = 6_000_000


def enrol_on_server(count: int, keys_dir: str) -> list[Employee]:
    """One finger (3 minutiae-level sub-templates) for each of ``count`` of the bulk-added employees."""
    demo = admin.company("DEMO")
    vault, matcher = vault_at(keys_dir), Matcher()
    employees = list(Employee.select().where((Employee.company == demo) & Employee.code.startswith("X"))
                     .order_by(Employee.code).limit(count))                  # the bulk-added HQ employees
    with write_transaction():
        version = bump_version(demo)
        rows = []
        for n, employee in enumerate(employees):
            bound = binding(demo.code, employee.key, 0)
            for seq in range(SUB_TEMPLATES):
                template = minutiae_template(seed=FIRST_SEED + n * SUB_TEMPLATES + seq)
                rows.append({"company": demo, "employee": employee, "finger": 0, "seq": seq, "version": version,
                             "sealed": vault.seal_template(template, bound),
                             "sealed_code": vault.seal_code(matcher.encode(template), bound)})
        for start in range(0, len(rows), 500):
            FingerprintTemplate.insert_many(rows[start:start + 500]).execute()
    return employees


def change_one_finger(employee: Employee, keys_dir: str) -> None:
    demo = admin.company("DEMO")
    bound, vault = binding(demo.code, employee.key, 0), vault_at(keys_dir)
    template = minutiae_template(seed=FIRST_SEED - 1)
    with write_transaction():
        version = bump_version(Company.get(Company.code == "DEMO"))
        FingerprintTemplate.update(sealed=vault.seal_template(template, bound),
                                   sealed_code=vault.seal_code(Matcher().encode(template), bound),
                                   version=version).where(FingerprintTemplate.employee == employee).execute()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fingers", type=int, default=1000)
    args = parser.parse_args()
    demo = DemoServer("fingerprint-pull-")
    keys_dir = demo.keys_dir
    add_employees(args.fingers)
    employees = enrol_on_server(args.fingers, keys_dir)
    server = demo.start()
    try:
        prov = demo.provisioning()
        ledger_db = open_ledger(demo.work / "kiosk" / "ledger.sqlite3")
        master = SqliteMasterData(ledger_db)
        slot = ClientSlot(prov.client(timeout=(5.0, 120.0)))
        DataUpdateService(SqliteMasterSync(ledger_db, master), slot).update()
        cipher = TemplateCipher(StaticKeyProvider.generate())
        store = SqliteFingerprintStore(ledger_db, cipher)

        def candidates(department: str) -> list[str]:
            return [e.key for e in master.employees() if e.department_code == department]
        sync = FingerprintSync(store, slot.get, master, candidates, lambda: None)
        full_s, full = timed(sync.pull)
        cold_s, gallery = timed(lambda: SqliteFingerprintStore(ledger_db, cipher).gallery())
        store.gallery()
        same_s, same = timed(sync.pull)
        change_one_finger(employees[0], keys_dir)
        one_s, one = timed(sync.pull)
        assert full.changed and full.full and len(gallery) == args.fingers * SUB_TEMPLATES
        assert not same.changed and one.changed and one.counts.written == 1
    finally:
        server.stop()
    n = args.fingers
    print(f"fingerprint_pull_full_{n}_fingers: {full_s:.2f} s")
    print(f"fingerprint_gallery_cold_load_{n * SUB_TEMPLATES}_sub_templates: {cold_s:.2f} s")
    print(f"fingerprint_pull_unchanged: {same_s * 1000:.1f} ms")
    print(f"fingerprint_pull_one_changed_finger: {one_s * 1000:.0f} ms")


if __name__ == "__main__":
    main()
