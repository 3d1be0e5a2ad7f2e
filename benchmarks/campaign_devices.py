"""Device-fault campaign (issue 10): ``--rounds`` faults at random on the real device stacks — pcscd SIGKILLed and
restarted, the reader gone and back (pcscd restarted without it, then with it), a card pulled away mid-read, the
libfprint virtual_image sensor unplugged during an enrolment capture and plugged back — each followed by the time from
the device returning to the adapter being ready and a fresh tap/finger read. Prints the figures and exits 1 on a
crash, a device not back within 10 s, or an error outside the catalogue. The campaign itself is
tests/campaigns/device_campaign.py; its short form runs in CI as tests/campaigns/test_device_campaign.py.

    python benchmarks/campaign_devices.py [--rounds 50] [--seed N] [--json]
"""
from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.campaigns.device_campaign import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
