"""The crash campaign's short form (the long form: benchmarks/campaign_crash.py --rounds 1000): SIGKILLs at random
moments while the kiosk punches and syncs to the reference server, saves settings, and creates or migrates a ledger.
Every acknowledged punch ends exactly once in the ledger and at the server; every SQLite file passes integrity_check;
settings are the old or the new document."""
from __future__ import annotations

import os

import pytest

from tests.durability.crash_campaign import run_campaign

ROUNDS = int(os.environ.get("DAKOKU_CRASH_ROUNDS", "24"))


@pytest.mark.timeout(300)
def test_sigkills_while_punching_syncing_saving_and_migrating(tmp_path):
    figures = run_campaign(tmp_path, ROUNDS, seed=20261202, log=None)
    print("\n".join(figures.lines()))
    assert not figures.problems, figures.problems[:10]
    assert figures.rounds == ROUNDS and sum(figures.kills.values()) >= ROUNDS - 2, figures.lines()
    assert set(figures.kills) == {"punch_sync", "settings", "migrate"}, "every kind of round was killed"
    # how much a child gets done before its kill depends on the machine's load: at least something was acknowledged
    assert figures.acknowledged_punches > 0
    assert figures.at_server_exactly_once == figures.acknowledged_punches
    assert figures.integrity_checks >= figures.kills["punch_sync"] + 1
