"""Slow clients against the reference server (issue 10, item 1): signed kiosk requests while N connections
from one host each send a request-header byte every 5 s and never finish.

Runs the same attack against gunicorn alone (``serve``) and behind the nginx front (``serve --front-proxy
nginx``) and prints, for each, the share of requests answered within 2 s, p50/p95/max latency and failures.

    .venv/bin/python benchmarks/slow_clients.py [--slow 50] [--requests 60] [--interval 5] [--only front|direct]
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.server.slowloris import SlowClients, isolated_server, measure  # noqa: E402


def run(front: bool, slow_count: int, requests_count: int, interval: float) -> None:
    label = "nginx front + gunicorn" if front else "gunicorn alone (2 workers x 4 threads)"
    with tempfile.TemporaryDirectory(prefix="dakoku-slow-") as work:
        with isolated_server(Path(work), front=front) as server:
            client = server.client(timeout=5.0)
            baseline = measure(client, 10, pause=0.1)
            with SlowClients("127.0.0.1", server.port, server.ca_file, slow_count, interval) as slow:
                deadline = time.monotonic() + 15
                while slow.open_now < slow_count and time.monotonic() < deadline:
                    time.sleep(0.1)
                timings = measure(client, requests_count, slow, pause=0.2)
    answered = len(timings.seconds)
    print(f"{label}:")
    print(f"  no attack:  p50 {baseline.percentile(50) * 1000:7.0f} ms   p95 {baseline.percentile(95) * 1000:7.0f} ms")
    print(f"  {slow_count} slow connections (open while measuring: min {min(timings.slow_open)}, "
          f"max {max(timings.slow_open)}; opened in all {slow.opened})")
    print(f"  answered {answered}/{requests_count}, within 2 s: {timings.within(2.0) * 100:5.1f} %")
    if answered:
        print(f"  p50 {timings.percentile(50) * 1000:7.0f} ms   p95 {timings.percentile(95) * 1000:7.0f} ms   "
              f"max {max(timings.seconds) * 1000:7.0f} ms")
    if timings.failures:
        print(f"  failures: {len(timings.failures)} (first: {timings.failures[0]})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--slow", type=int, default=50)
    parser.add_argument("--requests", type=int, default=60)
    parser.add_argument("--interval", type=float, default=5.0)
    parser.add_argument("--only", choices=["front", "direct"])
    args = parser.parse_args()
    for front in (True, False):
        if args.only and args.only != ("front" if front else "direct"):
            continue
        run(front, args.slow, args.requests, args.interval)


if __name__ == "__main__":
    main()
