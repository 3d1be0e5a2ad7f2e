"""The network campaign's short form (the long form: benchmarks/campaign_network.py --punches 10000): ~500 punches
through TCP and HTTP fault layers and a server SIGKILL + restart. Exactly once at the server, every failure a
catalogue error (counted per code), and a bounded connection rate while the server is down."""
from __future__ import annotations

import os

import pytest

from tests.campaigns.network_campaign import run_campaign

PUNCHES = int(os.environ.get("DAKOKU_NETWORK_PUNCHES", "500"))
# The worker backs off (jittered, up to its 1 s interval here) and each call tries at most 3 times: about 6 connection
# attempts a second while the server is down; a busy loop would make hundreds.
MAX_ATTEMPTS_PER_SECOND = 20


@pytest.mark.timeout(300)
def test_punches_through_faults_and_a_restart_arrive_exactly_once(tmp_path):
    figures = run_campaign(tmp_path, PUNCHES, restarts=1, batch=10, down_for=4.0, log=None)
    print("\n".join(figures.lines()))
    assert (figures.synced, figures.pending, figures.rejected) == (PUNCHES, 0, 0), figures.lines()
    assert figures.at_server_exactly_once == PUNCHES and not figures.at_server_duplicated
    assert not figures.not_catalogued, figures.not_catalogued[:5]
    assert sum(figures.failures_by_code.values()) >= 5, "the faults did reach the worker"
    assert figures.statuses["duplicate"] > 0, "some answers were lost after the server had stored the punches"
    assert figures.restarts == 1 and figures.down_attempts_per_second
    assert figures.max_down_rate <= MAX_ATTEMPTS_PER_SECOND, figures.down_attempts_per_second
