"""What every fuzz target checks: the input ends in success or a catalogue KioskError (or one of the parser's
documented refusals, named per target), within ``TIME_BOUND`` seconds; and it is counted."""
from __future__ import annotations

import time
from collections import Counter

from kiosk.errors import KioskError, catalogue

COUNTS: Counter = Counter()
TIME_BOUND = 2.0     # seconds per input: generous for a 2-core machine shared with other work


def ends_well(target: str, fn, *args, refusals: tuple[type[BaseException], ...] = (), keys=None, **kwargs):
    """Run ``fn``; return ("ok", result) or ("refused", exc). Any other exception fails the test."""
    COUNTS[target] += 1
    started = time.perf_counter()
    try:
        outcome = ("ok", fn(*args, **kwargs))
    except KioskError as exc:
        assert exc.key in catalogue(), f"{target}: {exc.key!r} is not in the catalogue"
        assert keys is None or exc.key in keys, f"{target}: unexpected catalogue key {exc.key!r} ({exc})"
        outcome = ("refused", exc)
    except refusals as exc:
        outcome = ("refused", exc)
    elapsed = time.perf_counter() - started
    assert elapsed < TIME_BOUND, f"{target}: one input took {elapsed:.2f} s"
    return outcome


def examples(ci: int) -> int:
    """Examples per target: ``ci`` in the short form, ``DAKOKU_FUZZ_EXAMPLES`` in the long form."""
    import os

    return int(os.environ.get("DAKOKU_FUZZ_EXAMPLES", "0")) or ci
