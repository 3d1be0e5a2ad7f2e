"""What every fuzz target checks: the input ends in success or a catalogue KioskError (or one of the parser's
documented refusals, named per target), within ``CPU_BOUND`` seconds of this thread's CPU time (immune to a busy
machine starving the process) and ``WALL_BOUND`` seconds of wall time (a hang); and it is counted."""
from __future__ import annotations

import time
from collections import Counter

from dakoku_core.errors import KioskError, catalogue

COUNTS: Counter = Counter()
CPU_BOUND = 2.0      # CPU seconds per input (the parsers take milliseconds)
WALL_BOUND = 30.0    # wall seconds per input: only a hang takes this long, even on a loaded machine


def ends_well(target: str, fn, *args, refusals: tuple[type[BaseException], ...] = (), keys=None, **kwargs):
    """Run ``fn``; return ("ok", result) or ("refused", exc). Any other exception fails the test."""
    COUNTS[target] += 1
    started, cpu_started = time.perf_counter(), time.thread_time()
    try:
        outcome = ("ok", fn(*args, **kwargs))
    except KioskError as exc:
        assert exc.key in catalogue(), f"{target}: {exc.key!r} is not in the catalogue"
        assert keys is None or exc.key in keys, f"{target}: unexpected catalogue key {exc.key!r} ({exc})"
        outcome = ("refused", exc)
    except refusals as exc:
        outcome = ("refused", exc)
    cpu, wall = time.thread_time() - cpu_started, time.perf_counter() - started
    assert cpu < CPU_BOUND and wall < WALL_BOUND, f"{target}: one input took {cpu:.2f} s CPU, {wall:.2f} s wall"
    return outcome


def examples(ci: int) -> int:
    """Examples per target: ``ci`` in the short form, ``DAKOKU_FUZZ_EXAMPLES`` in the long form."""
    import os

    return int(os.environ.get("DAKOKU_FUZZ_EXAMPLES", "0")) or ci
