"""Crash-consistency campaign (issue 10): ``--rounds`` SIGKILLs at random moments while the kiosk punches and
syncs to the reference server over loopback TLS, saves settings, and creates or migrates a ledger. Prints the
figures (``name: value`` lines) and exits 1 if any acknowledged punch was lost or duplicated, a SQLite file failed
``PRAGMA integrity_check``, or a settings file was torn. The campaign itself is tests/durability/crash_campaign.py;
its short form runs in CI as tests/durability/test_crash_campaign.py.

    python benchmarks/campaign_crash.py [--rounds 1000] [--seed N]
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.durability.crash_campaign import run_campaign  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=20261202)
    args = parser.parse_args()
    figures = run_campaign(Path(tempfile.mkdtemp(prefix="campaign-crash-")), args.rounds, args.seed,
                           log=lambda line: print(line, file=sys.stderr, flush=True))
    for line in figures.lines():
        print(line)
    for problem in figures.problems[:20]:
        print(f"PROBLEM: {problem}")
    sys.exit(1 if figures.problems else 0)


if __name__ == "__main__":
    main()
