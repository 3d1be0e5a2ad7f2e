"""取り消し survives SIGKILL at any moment (issue 12): a kill between a punch and its correction leaves the punch
(and no correction, or the correction whose acknowledgement the kill cut off); a kill after a correction was
acknowledged leaves both. A correction never exists without its punch, the punch's row is never changed, and
the file stays sound. Real processes, a real SQLite file, SIGKILL at random moments."""
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

CHILD = Path(__file__).with_name("undo_child.py")
ROUNDS = int(os.environ.get("DAKOKU_UNDO_KILL_ROUNDS", "25"))


def run_round(db: Path, rng: random.Random) -> list[list[str]]:
    proc = subprocess.Popen([sys.executable, str(CHILD), str(db)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "ready"
    time.sleep(rng.uniform(0.0, 0.25))
    proc.send_signal(signal.SIGKILL)
    out, _ = proc.communicate(timeout=30)
    return [line.split() for line in out.split("\n")[:-1] if line]   # the last piece may be torn: not acknowledged


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_punches_and_their_corrections_survive_sigkill(tmp_path):
    db = tmp_path / "ledger.sqlite3"
    rng = random.Random(20261202)
    punched, cancelled, cut_between = [], {}, 0
    for _ in range(ROUNDS):
        acks = run_round(db, rng)
        punched += [a[1] for a in acks if a[0] == "P"]
        cancelled.update({a[2]: a[1] for a in acks if a[0] == "C"})
        last = acks[-1] if acks else None
        # killed after an even punch was acknowledged and before its correction was: the interesting cut
        cut_between += bool(last and last[0] == "P" and len([a for a in acks if a[0] == "P"]) % 2 == 1)
    con = sqlite3.connect(db)
    try:
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        rows = {uuid: (kind, cancels) for uuid, kind, cancels in
                con.execute("SELECT uuid, kind, cancels FROM punch")}
        orphans = con.execute("SELECT COUNT(*) FROM punch AS c WHERE c.kind = 'cancel' AND NOT EXISTS "
                              "(SELECT 1 FROM punch AS p WHERE p.uuid = c.cancels AND p.kind != 'cancel')").fetchone()
        states = set(con.execute("SELECT DISTINCT sync_state FROM punch").fetchall())
    finally:
        con.close()
    assert len(punched) > ROUNDS and cancelled                 # the child punched and cancelled between kills
    assert not [u for u in punched if rows.get(u, ("", None))[0] != "clock_in"], "an acknowledged punch is lost"
    assert all(rows.get(c) == ("cancel", p) for p, c in cancelled.items()), "an acknowledged correction is lost"
    assert orphans[0] == 0 and states == {("pending",)}
    print(f"\nundo kill rounds: {ROUNDS}, punches acknowledged: {len(punched)}, corrections: {len(cancelled)}, "
          f"kills between a punch and its correction: {cut_between}")
    assert cut_between > 0, "no kill landed between a punch and its correction: the test proved nothing"
