"""Network-fault campaign (issue 10): ``--punches`` punches uploaded by the kiosk's outbox worker through a TCP fault
proxy (refuse, stall, reset mid-body, garbage TLS, drip) and an HTTP fault layer (503, 503 after the work, 429 with
Retry-After, truncated and garbage bodies) to the reference server, which is SIGKILLed and restarted ``--restarts``
times. Prints the figures (``name: value`` lines): failures per catalogue code, connection attempts per second while
the server was down, exactly-once at the server. Exits 1 on a lost or duplicated punch or a failure outside the
catalogue. The campaign is tests/campaigns/network_campaign.py; its short form runs in CI.

    python benchmarks/campaign_network.py [--punches 10000] [--restarts 5] [--batch 50]
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.campaigns.network_campaign import run_campaign  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--punches", type=int, default=10_000)
    parser.add_argument("--restarts", type=int, default=5)
    parser.add_argument("--batch", type=int, default=50)
    parser.add_argument("--down-for", type=float, default=8.0, help="seconds the server stays down each time")
    parser.add_argument("--seed", type=int, default=20261202)
    args = parser.parse_args()
    figures = run_campaign(Path(tempfile.mkdtemp(prefix="campaign-network-")), args.punches, restarts=args.restarts,
                           seed=args.seed, batch=args.batch, down_for=args.down_for,
                           log=lambda line: print(line, file=sys.stderr, flush=True))
    for line in figures.lines():
        print(line)
    bad = (figures.at_server_missing or figures.at_server_duplicated or figures.pending or figures.not_catalogued)
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
