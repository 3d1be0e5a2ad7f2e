"""Acknowledged punches survive SIGKILL at any moment: exactly once, and the file stays sound."""
from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

CHILD = Path(__file__).with_name("punch_child.py")
ROUNDS = int(os.environ.get("DAKOKU_KILL_ROUNDS", "40"))


def run_round(db: Path, rng: random.Random) -> list[str]:
    proc = subprocess.Popen([sys.executable, str(CHILD), str(db)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "ready"
    time.sleep(rng.uniform(0.0, 0.25))
    proc.send_signal(signal.SIGKILL)
    out, _ = proc.communicate(timeout=30)
    lines = out.split("\n")
    return [line for line in lines[:-1] if line]  # the last piece may be a torn line: not acknowledged


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_acknowledged_punches_survive_sigkill(tmp_path):
    db = tmp_path / "ledger.sqlite3"
    rng = random.Random(20261125)
    acknowledged: list[str] = []
    for _ in range(ROUNDS):
        acknowledged += run_round(db, rng)
    assert len(acknowledged) > ROUNDS  # the child did punch between the kills
    con = sqlite3.connect(db)
    try:
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        stored = {}
        for (uuid,) in con.execute("SELECT uuid FROM punch"):
            stored[uuid] = stored.get(uuid, 0) + 1
    finally:
        con.close()
    missing = [u for u in acknowledged if u not in stored]
    assert not missing, f"{len(missing)} acknowledged punches lost, e.g. {missing[:3]}"
    assert len(set(acknowledged)) == len(acknowledged)
    assert all(count == 1 for count in stored.values())
