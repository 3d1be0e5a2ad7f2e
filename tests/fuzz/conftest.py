"""Fuzzing (issue 10): hypothesis drives every parser the kiosk feeds with outside input. Each input must end in a
catalogue KioskError (or the parser's documented refusal, which the caller maps to one) or in success, within a time
bound. The examples run are counted per target and printed at the end of the session.

The short form runs in CI (derandomized, so a run is repeatable); the long form is the same tests with
``DAKOKU_FUZZ_EXAMPLES=N`` (examples per target) and a random seed: ``DAKOKU_FUZZ_EXAMPLES=20000 pytest tests/fuzz``.
"""
from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

from .fuzzing import COUNTS

LONG = int(os.environ.get("DAKOKU_FUZZ_EXAMPLES", "0"))
settings.register_profile(
    "dakoku-fuzz", max_examples=LONG or 300, derandomize=not LONG, database=None, deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much,
                           HealthCheck.function_scoped_fixture])
settings.load_profile("dakoku-fuzz")


def pytest_terminal_summary(terminalreporter) -> None:
    if COUNTS:
        terminalreporter.section("fuzz examples run")
        for target, count in sorted(COUNTS.items()):
            terminalreporter.write_line(f"{target}: {count}")
        terminalreporter.write_line(f"total: {sum(COUNTS.values())}")
