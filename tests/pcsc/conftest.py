"""A private pcscd with vpcd readers for the whole session, and helpers to drive the card adapter.

PCSCLITE_CSOCK_NAME is set when this conftest is imported, i.e. before any test of the session makes
its first PC/SC call (the client library reads it once per process).
"""
from __future__ import annotations

import threading
import time

import pytest

from .harness import (
    EVENT_TIMEOUT, OTHER, PASORI, PrivatePcscd, VirtualReader, free_port_pair, missing_stack, wait_reader_card,
)

MISSING = missing_stack()

_DAEMON = None if MISSING else PrivatePcscd()
if _DAEMON is not None:
    _DAEMON.client_env()


class Stack:
    """The session's pcscd and its readers: ``other`` and ``pasori`` (two vpcd entries)."""

    def __init__(self, daemon: PrivatePcscd):
        self.daemon = daemon
        first = free_port_pair()
        second = free_port_pair()
        while second in (first - 1, first, first + 1):
            second = free_port_pair()
        self.other = VirtualReader(OTHER, first)
        self.pasori = VirtualReader(PASORI, second)
        self.default = [self.other, self.pasori]

    @property
    def pasori_name(self) -> str:
        return self.pasori.slot_names[0]

    def wait_card(self, present: bool, reader: str | None = None, timeout: float = EVENT_TIMEOUT) -> None:
        wait_reader_card(reader or self.pasori_name, present, timeout)

    def wait_empty(self, reader: str | None = None) -> None:
        self.wait_card(False, reader)

    def ensure_default(self) -> None:
        if self.daemon.proc is None or self.daemon.proc.poll() is not None or self.daemon.readers != self.default:
            self.daemon.stop()
            self.daemon.start(self.default)


@pytest.fixture(scope="session")
def stack():
    if MISSING:
        pytest.skip(f"real PC/SC stack unavailable: {MISSING}")
    stack = Stack(_DAEMON)
    stack.ensure_default()
    yield stack
    _DAEMON.close()


@pytest.fixture
def pcsc(stack):
    """The default configuration (other + PaSoRi readers), restored before each test, with no card
    left on the PaSoRi by the previous test."""
    stack.ensure_default()
    stack.wait_empty()
    return stack


class Recorder:
    """Collects what the adapter reports (on its own thread) and waits for it with deadlines."""

    def __init__(self):
        self.cards, self.statuses, self.errors = [], [], []
        self.emitted_at: list[float] = []
        self._changed = threading.Condition()

    def on_card(self, event):
        with self._changed:
            self.emitted_at.append(time.monotonic())
            self.cards.append(event)
            self._changed.notify_all()

    def on_status(self, status):
        with self._changed:
            self.statuses.append(status)
            self._changed.notify_all()

    def on_error(self, error):
        with self._changed:
            self.errors.append(error)
            self._changed.notify_all()

    def wait(self, predicate, timeout=EVENT_TIMEOUT, what="an adapter report"):
        deadline = time.monotonic() + timeout
        with self._changed:
            while not predicate():
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"timed out after {timeout} s waiting for {what}; "
                                         f"cards={self.cards} statuses={self.statuses} errors={self.errors}")
                self._changed.wait(left)

    def wait_cards(self, count, timeout=EVENT_TIMEOUT):
        self.wait(lambda: len(self.cards) >= count, timeout, f"{count} card event(s)")

    def wait_errors(self, count, timeout=EVENT_TIMEOUT):
        self.wait(lambda: len(self.errors) >= count, timeout, f"{count} read error(s)")

    def wait_state(self, state, timeout=EVENT_TIMEOUT, after=0):
        self.wait(lambda: any(s.state == state for s in self.statuses[after:]), timeout, f"status {state}")

    def quiet_for(self, seconds):
        """Assert nothing new arrives for ``seconds`` (used sparingly: it costs wall time)."""
        before = (len(self.cards), len(self.errors))
        time.sleep(seconds)
        assert (len(self.cards), len(self.errors)) == before, (self.cards, self.errors)


@pytest.fixture
def recorder():
    return Recorder()


@pytest.fixture
def cards():
    """Virtual cards made by a test; all removed at teardown."""
    made = []

    def track(card):
        made.append(card)
        return card

    yield track
    for card in made:
        card.remove()


@pytest.fixture
def start_reader(recorder):
    """Start a PcscCardReader wired to ``recorder``; stopped at teardown."""
    from kiosk.adapters.pcsc_reader import PcscCardReader

    started = []

    def start(wait_ready=True, **kwargs):
        kwargs.setdefault("retry_interval", 0.2)
        reader = PcscCardReader(**kwargs)
        reader.start(recorder.on_card, recorder.on_status, recorder.on_error)
        started.append(reader)
        if wait_ready:
            from kiosk.ports import ReaderState

            recorder.wait_state(ReaderState.READY)
            time.sleep(0.05)   # let the first wait (the reader's initial state) happen
        return reader

    yield start
    for reader in started:
        reader.stop()
