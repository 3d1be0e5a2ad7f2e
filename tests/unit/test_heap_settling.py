"""Memory of the long-lived heap (issue 12): the master-data snapshot holds each repeated value once, and
memory.settle_long_lived keeps the long-lived heap out of full garbage collections without keeping garbage for ever.
Real SQLite ledger on disk, the demo's master data."""
from __future__ import annotations

import gc
import weakref
from datetime import date

from dakoku_core.demo import seed_demo
from kiosk.adapters import memory
from kiosk.adapters.ledger import SqliteMasterData, open_ledger
from dakoku_core.domain.model import AuthMethod


def test_the_snapshot_holds_repeated_values_once(tmp_path):
    ledger = open_ledger(tmp_path / "ledger.sqlite3")
    try:
        master = SqliteMasterData(ledger)
        seed_demo(master, date(2026, 12, 2))
        fresh = SqliteMasterData(ledger)          # read back from the file, as at start
        employees = fresh.employees()
        by_department: dict = {}
        for employee in employees:
            by_department.setdefault(employee.department_code, set()).add(id(employee.department_code))
        assert any(len([e for e in employees if e.department_code == code]) > 1 for code in by_department)
        assert all(len(ids) == 1 for ids in by_department.values()), by_department
        snapshot = fresh._snap()
        for (method, _ref), key in snapshot.credentials.items():
            if method == AuthMethod.CARD.value:
                assert key is snapshot.employees[key].key   # the credential names its employee's own key object
    finally:
        ledger.close()


class Node:
    def __init__(self):
        self.other = self   # a reference cycle: only the collector frees it


def test_settling_frees_the_cycles_dropped_since_the_last_time():
    try:
        kept = Node()
        memory.settle_long_lived()
        assert gc.get_freeze_count() > 0            # the heap is out of the collector's view...
        probe = weakref.ref(kept)
        del kept                                    # ...so a frozen cycle dropped now stays, until
        gc.collect()
        assert probe() is not None
        memory.settle_long_lived()                  # ...the next settling (e.g. after a データ更新) frees it
        assert probe() is None
    finally:
        gc.unfreeze()
