"""Device-fault campaign (issue 10): per round one fault at random on the real device stacks (device_sides.py) —
pcscd SIGKILLed then restarted, pcscd restarted without our reader then with it again, a card pulled away while its
APDU is pending, the fingerprint sensor unplugged during an enrolment capture then plugged back — then the time
from the device returning to the adapter reporting it ready and a fresh tap/finger read.

Run it in a process of its own (PC/SC reads its socket path once per process): ``python -m
tests.campaigns.device_campaign --rounds N [--json]`` or benchmarks/campaign_devices.py.
"""
from __future__ import annotations

import argparse
import json
import logging
import random
import sys
import time
import traceback
from collections import Counter
from dataclasses import dataclass, field

from dakoku_core.errors import KioskError, catalogue

from tests.campaigns.device_sides import BOUND, CardSide, NotRecovered, SensorSide


@dataclass
class Figures:
    rounds: int = 0
    faults: Counter = field(default_factory=Counter)
    recoveries: int = 0
    ready_s: list = field(default_factory=list)      # device back -> adapter ready (pcscd and sensor faults)
    read_s: list = field(default_factory=list)       # device back -> a fresh tap/finger read
    by_kind: dict = field(default_factory=dict)      # kind -> {"ready": [...], "read": [...]}
    errors_by_key: Counter = field(default_factory=Counter)
    not_catalogued: list = field(default_factory=list)
    not_recovered: list = field(default_factory=list)
    crashes: list = field(default_factory=list)
    seconds: float = 0.0

    def count_error(self, err) -> None:
        if isinstance(err, KioskError) and err.key in catalogue():
            self.errors_by_key[err.key] += 1
        else:
            self.not_catalogued.append(repr(err))

    def lines(self) -> list[str]:
        return [f"rounds: {self.rounds} in {self.seconds:.1f} s",
                f"faults: {dict(sorted(self.faults.items()))}",
                f"recoveries: {self.recoveries} (not recovered within {BOUND:.0f} s: {len(self.not_recovered)})",
                f"device back -> ready s: {summary(self.ready_s)}",
                f"device back -> fresh read s: {summary(self.read_s)}",
                *(f"  {kind}: ready {summary(t['ready'])}; read {summary(t['read'])}"
                  for kind, t in sorted(self.by_kind.items())),
                f"errors by key: {dict(sorted(self.errors_by_key.items()))}",
                f"errors outside the catalogue: {len(self.not_catalogued)}",
                f"crashes: {len(self.crashes)}"]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, int(round(q * len(ordered) + 0.5)) - 1))]


def summary(values: list[float]) -> str:
    if not values:
        return "-"
    return (f"n {len(values)} p50 {percentile(values, 0.5):.3f} p95 {percentile(values, 0.95):.3f} "
            f"max {max(values):.3f}")


class _Failures(logging.Handler):
    """ERROR records from the product (e.g. 'card reader loop failed'): an adapter loop that blew up."""

    def __init__(self, figures: Figures):
        super().__init__(logging.ERROR)
        self.figures = figures

    def emit(self, record: logging.LogRecord) -> None:
        self.figures.crashes.append(f"{record.name}: {record.getMessage()}")


def schedule(rounds: int, kinds: list[str], rng: random.Random) -> list[str]:
    """Every kind once (shuffled) first, so a short run covers them all, then uniformly at random."""
    first = rng.sample(kinds, len(kinds))
    return (first + [rng.choice(kinds) for _ in range(max(0, rounds - len(kinds)))])[:rounds]


def one_round(figures: Figures, side, kind: str, rng: random.Random) -> None:
    figures.faults[kind] += 1
    try:
        ready, read = side.fault(kind, rng)
    except NotRecovered as exc:
        figures.not_recovered.append(f"{kind}: {exc}")
        side.reset()
        return
    except Exception as exc:  # noqa: BLE001 - anything else is a crash of the round
        figures.crashes.append(f"{kind}: {''.join(traceback.format_exception_only(type(exc), exc)).strip()}")
        side.reset()
        return
    finally:
        for err in getattr(side, "errors", []):
            figures.count_error(err)
        side.errors = []
    figures.recoveries += 1
    timings = figures.by_kind.setdefault(kind, {"ready": [], "read": []})
    if ready is not None:
        figures.ready_s.append(ready)
        timings["ready"].append(ready)
    figures.read_s.append(read)
    timings["read"].append(read)
    if not side.alive:
        figures.crashes.append(f"{kind}: the adapter's thread is dead")


def run_campaign(rounds: int, seed: int, log=None) -> Figures:
    from dakoku_core.fingerprint.synth import TEST, impressions_of

    rng = random.Random(seed)
    figures = Figures()
    handler = _Failures(figures)
    logging.getLogger("kiosk").addHandler(handler)
    cards = CardSide(on_error=figures.count_error)
    cards.errors = []
    sensor = SensorSide(impressions_of(TEST.start + 43, 1)[0])
    sides = {**{k: cards for k in CardSide.KINDS}, **{k: sensor for k in SensorSide.KINDS}}
    started = time.monotonic()
    try:
        for number, kind in enumerate(schedule(rounds, list(sides), rng), 1):
            one_round(figures, sides[kind], kind, rng)
            figures.rounds = number
            if log:
                log(f"round {number}: {kind} read {figures.read_s[-1] if figures.read_s else '-'}")
    finally:
        figures.seconds = time.monotonic() - started
        sensor.close()
        cards.close()
        logging.getLogger("kiosk").removeHandler(handler)
    return figures


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=50)
    parser.add_argument("--seed", type=int, default=20261202)
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    args = parser.parse_args(argv)
    figures = run_campaign(args.rounds, args.seed, log=lambda line: print(line, file=sys.stderr, flush=True))
    if args.json:
        print(json.dumps({k: dict(v) if isinstance(v, Counter) else v for k, v in vars(figures).items()}))
    else:
        print("\n".join(figures.lines()))
        for problem in (figures.crashes + figures.not_recovered + figures.not_catalogued)[:20]:
            print(f"PROBLEM: {problem}")
    return 1 if figures.crashes or figures.not_recovered or figures.not_catalogued else 0


if __name__ == "__main__":
    sys.exit(main())
