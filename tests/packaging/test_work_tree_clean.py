"""Issue 13: benchmarks leave nothing in the current directory or the work tree (card_latency.py used to
leave a card-bench-*/ folder with a ledger in the current directory: its ledger now lives in the system's
temporary directory)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def porcelain() -> set[str]:
    done = subprocess.run(["git", "status", "--porcelain", "--untracked-files=all"], cwd=ROOT,
                          capture_output=True, text=True)
    return set(done.stdout.splitlines()) if done.returncode == 0 else set()


@pytest.mark.timeout(240)
def test_card_latency_leaves_nothing_behind(tmp_path):
    sys.path.insert(0, str(ROOT))
    from tests.pcsc.harness import missing_stack

    why = missing_stack()
    if why:
        pytest.skip(f"pcscd + vpcd needed: {why}")
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    before = porcelain()
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "card_latency.py"), "--taps", "3"], cwd=cwd,
                          capture_output=True, text=True, timeout=200)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "card_present_to_punch_committed_p50" in done.stdout
    assert list(cwd.iterdir()) == []
    assert not [line for line in porcelain() - before if "card-bench-" in line]
