"""The clock campaign's short form: one round of jumps (forwards a day, back a day, back an hour between two
punches), NTP unreachable, every source unreachable until the measurement is stale, a step while punching
and (with libfaketime) the server's clock 2 h off. The script checks each point and exits non-zero on a
failed check or any crash."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.timeout(400)
def test_clock_campaign_short_form():
    run = subprocess.run([sys.executable, str(ROOT / "scripts" / "campaign_clock.py"), "--rounds", "1"],
                         capture_output=True, text=True, timeout=380, cwd=ROOT)
    figures = dict(line.split(": ", 1) for line in run.stdout.splitlines() if ": " in line and not line.startswith(" "))
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert figures["failed checks"] == "0" and figures["crashes"] == "0"
    assert figures["refused auth_failed/B"] == "1" and figures["refused already_punched"] == "1"
    assert int(figures["jumps"]) >= 6 and int(figures["punches labelled ntp"]) >= 5
