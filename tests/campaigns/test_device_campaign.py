"""The device-fault campaign's short form (the long form: benchmarks/campaign_devices.py --rounds 50): every fault kind
on the real stacks — pcscd SIGKILL, the reader gone and back, a card pulled mid-read, the sensor unplugged during
enrolment — with 0 crashes, every error a catalogue key, and every device back (ready, then a fresh read) within the
campaign's 10 s bound. Timings are printed, not asserted. The campaign runs in a child process: the PC/SC client
library reads its socket path once per process, and tests/pcsc owns this process's."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.campaigns.device_sides import BOUND
from tests.fingerprint_device.conftest import fprint_missing
from tests.pcsc.harness import missing_stack

ROOT = Path(__file__).resolve().parents[2]
ROUNDS = int(os.environ.get("DAKOKU_DEVICE_ROUNDS", "10"))
KINDS = {"pcscd_sigkill", "reader_gone_and_back", "card_pulled_mid_read", "sensor_unplugged_mid_enrolment"}


@pytest.fixture(scope="module")
def figures():
    reason = missing_stack() or fprint_missing()
    if reason:
        pytest.skip(reason)
    env = {k: v for k, v in os.environ.items() if k != "PCSCLITE_CSOCK_NAME"}
    done = subprocess.run([sys.executable, "-m", "tests.campaigns.device_campaign", "--rounds", str(ROUNDS),
                           "--seed", "7", "--json"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=240)
    print(done.stderr[-3000:])
    assert done.stdout.strip(), f"the campaign process died (exit {done.returncode}): {done.stderr[-3000:]}"
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result["returncode"] = done.returncode
    print({k: v for k, v in result.items() if k not in ("ready_s", "read_s", "by_kind")})
    print("ready_s", [round(x, 3) for x in result["ready_s"]], "read_s", [round(x, 3) for x in result["read_s"]])
    return result


@pytest.mark.timeout(300)
def test_every_fault_kind_ran_and_nothing_crashed(figures):
    assert figures["rounds"] == ROUNDS and set(figures["faults"]) == KINDS, figures["faults"]
    assert figures["crashes"] == [] and figures["returncode"] == 0, figures["crashes"]


@pytest.mark.timeout(300)
def test_every_error_the_devices_caused_is_a_catalogue_key(figures):
    assert figures["not_catalogued"] == []
    keys = figures["errors_by_key"]
    assert keys.get("card_read_failed", 0) >= figures["faults"]["card_pulled_mid_read"], keys
    assert keys.get("enrollment_cancelled", 0) >= figures["faults"]["sensor_unplugged_mid_enrolment"], keys


@pytest.mark.timeout(300)
def test_every_device_came_back_and_read_again(figures):
    assert figures["not_recovered"] == [] and figures["recoveries"] == ROUNDS
    assert len(figures["read_s"]) == ROUNDS and max(figures["read_s"]) < BOUND
    card_pulls = figures["faults"]["card_pulled_mid_read"]
    assert len(figures["ready_s"]) == ROUNDS - card_pulls and max(figures["ready_s"]) < BOUND
