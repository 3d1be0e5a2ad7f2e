"""Card latency with the real pcscd and a virtual card (no hardware): ``python benchmarks/card_latency.py``.

Figures (each printed as ``name: value unit``):
- adapter_share_p50 / _p95: from the adapter receiving the card-present state change
  (``CardEvent.received_monotonic``) to the CardEvent reaching ``on_card`` (connect, GET UID, disconnect).
- pcscd_poll_delay_p50 / _p95: from the virtual insert (at a random phase) to that state change.
  pcscd polls vpcd every 400 ms, so this is 0-400 ms here; real CCID readers (PaSoRi RC-S300) notify
  by interrupt. Not the kiosk's latency: reported apart.
- handler_p50 / _p95 (only with a handler): time spent in the plugged-in ``on_card`` (e.g. up to the
  punch being committed), measured on the adapter thread.

Plug in a handler: ``run(on_card=lambda event: punch_service.punch(...))`` from another script.
"""
from __future__ import annotations

import argparse
import random
import statistics
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.pcsc.harness import (  # noqa: E402
    PASORI, PrivatePcscd, VirtualReader, free_port_pair, missing_stack, wait_reader_card,
)
from tests.pcsc.virtual_card import felica  # noqa: E402

READER = PASORI
FELICA_ID, OTHER_ID = "0123456789ABCDE1", "0123456789ABCDE3"   # demo cards of 山田 and 鈴木


@dataclass
class Figures:
    adapter_ms: list[float] = field(default_factory=list)
    poll_ms: list[float] = field(default_factory=list)
    handler_ms: list[float] = field(default_factory=list)
    errors: int = 0
    missed: int = 0

    def lines(self) -> list[str]:
        out = [f"taps: {len(self.adapter_ms)} count", f"missed_taps: {self.missed} count",
               f"read_errors: {self.errors} count"]
        for name, values in (("adapter_share", self.adapter_ms), ("pcscd_poll_delay", self.poll_ms),
                             ("handler", self.handler_ms)):
            if values:
                out += [f"{name}_p50: {percentile(values, 50):.3f} ms",
                        f"{name}_p95: {percentile(values, 95):.3f} ms"]
        return out


def percentile(values: list[float], pct: float) -> float:
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(pct) - 1]


def run(on_card: Callable | None = None, taps: int = 200, event_timeout: float = 5.0) -> Figures:
    """Tap ``taps`` times (alternating two FeliCa demo cards) and measure. Needs pcscd + vpcd."""
    why = missing_stack()
    if why:
        raise SystemExit(f"cannot run: {why}")
    daemon = PrivatePcscd()
    daemon.client_env()                       # before this process's first PC/SC call
    port = free_port_pair()
    daemon.start([VirtualReader(READER, port)])
    from kiosk.adapters.pcsc_reader import PcscCardReader
    from kiosk.ports import ReaderState

    figures, arrived, ready = Figures(), threading.Semaphore(0), threading.Event()

    def card_handler(event) -> None:
        emitted = time.monotonic()
        figures.adapter_ms.append((emitted - event.received_monotonic) * 1000)
        figures.poll_ms.append((event.received_monotonic - current[0].inserted_monotonic) * 1000)
        if on_card is not None:
            on_card(event)
            figures.handler_ms.append((time.monotonic() - emitted) * 1000)
        arrived.release()

    def error_handler(error) -> None:
        figures.errors += 1
        arrived.release()

    reader = PcscCardReader(READER, retry_interval=0.2)
    reader.start(card_handler, lambda s: ready.set() if s.state == ReaderState.READY else None, error_handler)
    try:
        if not ready.wait(10):
            raise SystemExit(f"reader never became ready: {reader.status}")
        cards, jitter = [felica(FELICA_ID), felica(OTHER_ID)], random.Random(4)
        current = [cards[0]]
        for index in range(taps):
            current[0] = cards[index % 2]
            current[0].insert(port)
            if not arrived.acquire(timeout=event_timeout):
                figures.missed += 1
            current[0].remove()
            wait_reader_card(f"{READER} 00 00", present=False)
            time.sleep(jitter.uniform(0, 0.4))   # tap at a random phase of pcscd's 400 ms poll
    finally:
        reader.stop()
        daemon.close()
    return figures


def punch_handler(workdir: Path) -> Callable:
    """The real punch path behind the adapter: PunchService on a SQLite ledger with the demo data."""
    from kiosk.adapters.ledger import SqliteMasterData, SqlitePunchLedger, open_ledger
    from dakoku_core.demo import seed_demo
    from dakoku_core.domain.model import PunchKind
    from kiosk.services.clock import KioskClock
    from kiosk.settings import Settings

    db = open_ledger(workdir / "ledger.sqlite3")
    master, clock = SqliteMasterData(db), KioskClock(Settings().tz)
    seed_demo(master, clock.read().at.date(),   # 出勤 again and again: interval and sequence warning off
              recorder_settings={"reauth_interval_seconds": 0, "sequence_warning": False})
    from kiosk.services.punch import PunchService

    service = PunchService(master, SqlitePunchLedger(db), clock)
    return lambda event: service.punch_with_card(PunchKind.CLOCK_IN, event.card_id)


def main(argv: list[str] | None = None) -> int:
    import tempfile

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--taps", type=int, default=200)
    parser.add_argument("--no-punch", action="store_true", help="measure the adapter alone")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="card-bench-") as tmp:   # the system temp dir, never the work tree
        handler = None if args.no_punch else punch_handler(Path(tmp))
        figures = run(on_card=handler, taps=args.taps)
    for line in figures.lines():
        print(line.replace("handler_", "event_to_punch_committed_"))
    if figures.handler_ms:
        both = [a + h for a, h in zip(figures.adapter_ms, figures.handler_ms)]
        print(f"card_present_to_punch_committed_p50: {percentile(both, 50):.3f} ms")
        print(f"card_present_to_punch_committed_p95: {percentile(both, 95):.3f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
