"""Clock fault campaign (issue 10, items 7-10): the machine clock jumps forwards and backwards, NTP is
unreachable, the server's clock is far off. Real parts: the reference server over loopback TLS, an SNTP
responder on loopback, the kiosk's ledger on disk, its punch, upload and time sync services.

The machine clock: with libfaketime (apt ``faketime``) the script re-executes itself under it and jumps its
own process clock (time.time, and OpenSSL's certificate checks see it too); the boot clock is left alone.
Without libfaketime (or ``--port``) it moves the kiosk's clock port instead. The server runs without it,
except in the "server clock far off" round (its own libfaketime offset).

Prints ``name: value`` figures and exits non-zero if a check fails or anything crashed.

    python scripts/campaign_clock.py [--rounds 3] [--port]
"""
from __future__ import annotations

import argparse
import os
import select
import sys
import tempfile
import time
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks")]
LIBFAKETIME = Path("/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1")
FAKE_ENV = ("LD_PRELOAD", "FAKETIME", "FAKETIME_TIMESTAMP_FILE", "FAKETIME_NO_CACHE", "FAKETIME_DONT_FAKE_MONOTONIC")


def reexec_under_faketime() -> None:
    """Run this script again with libfaketime preloaded, its offset read from a file on every call."""
    stamp = Path(tempfile.mkdtemp(prefix="clock-campaign-")) / "faketime"
    stamp.write_text("+0\n")
    env = {**os.environ, "LD_PRELOAD": str(LIBFAKETIME), "FAKETIME_TIMESTAMP_FILE": str(stamp),
           "FAKETIME_NO_CACHE": "1", "FAKETIME_DONT_FAKE_MONOTONIC": "1", "DAKOKU_CLOCK_CAMPAIGN": "faketime"}
    os.execve(sys.executable, [sys.executable, *sys.argv], env)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="how many times the jump sequence runs")
    parser.add_argument("--port", action="store_true", help="move a clock port, not the process clock")
    args = parser.parse_args(argv)
    if not args.port and LIBFAKETIME.exists() and os.environ.get("DAKOKU_CLOCK_CAMPAIGN") != "faketime":
        reexec_under_faketime()
    if os.environ.get("DAKOKU_CLOCK_CAMPAIGN") == "faketime":
        # libfaketime 0.9.10 with an unfaked monotonic clock fails Python's time.sleep (clock_nanosleep with
        # an absolute monotonic deadline: EINVAL); select's relative timeout is left alone.
        time.sleep = lambda seconds: select.select([], [], [], max(0.0, seconds)) and None
    from clock_campaign import Campaign   # noqa: E402 - after the re-exec: imports see the faked clock

    return Campaign(faketime=os.environ.get("DAKOKU_CLOCK_CAMPAIGN") == "faketime").run(args.rounds)


if __name__ == "__main__":
    sys.exit(main())
