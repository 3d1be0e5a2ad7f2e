"""PC/SC card reader adapter (pyscard): one tap on the configured reader → one CardEvent.

The adapter runs its own ``SCardGetStatusChange`` loop on a background thread (pyscard's CardMonitor
threads die for good when pcscd restarts) and survives pcscd being absent, stopping or restarting, and
the reader vanishing: it reports INIT_FAILED / DISCONNECTED and keeps retrying until it is READY again.
The PC/SC calls and the translation of library results live in ``pcsc_calls``; nothing above sees pyscard.
See docs/card_readers.md for the behaviour table.
"""
from __future__ import annotations

import logging
import re
import threading
import time
from typing import Callable

from kiosk.adapters.pcsc_calls import (  # noqa: F401  (re-exported: the diagnosis, tests and benchmark use them)
    _READER_GONE_STATES, _READER_LOST, _SERVICE_LOST, DEFAULT_READER_PATTERN, E_CANCELLED, E_TIMEOUT, F_COMM_ERROR,
    PNP_NOTIFICATION, STATE_CHANGED, STATE_EMPTY, STATE_MUTE, STATE_PRESENT, STATE_UNAWARE, SUCCESS, ReaderLost,
    ReadResult, ServiceLost, card_type_from_atr, establish_context, hresult_name, list_readers, looks_random_uid,
    pick_reader, read_uid, reader_names, release_context, require_backend, scard, status_change,
)
from dakoku_core.errors import KioskError
from kiosk.ports import CardEvent, ReaderState, ReaderStatus

log = logging.getLogger(__name__)

OnCard = Callable[[CardEvent], None]
OnStatus = Callable[[ReaderStatus], None]
OnError = Callable[[KioskError], None]


class PcscCardReader:
    """The CardReader port on PC/SC. ``start`` spawns the loop thread; ``stop`` cancels and joins it.

    - ``reader_pattern``: regular expression (re.search) a reader's name must match; the first match wins.
    - ``retry_interval``: seconds between attempts while pcscd or the reader is missing.
    - ``debounce``: the same card seen again within this many seconds of leaving is the same tap.
    - ``read_attempts``: attempts per tap for transient failures while the card stays present.
    - ``poll_ms``: upper bound of one blocking wait (stop() also cancels it at once with SCardCancel).
    """

    def __init__(self, reader_pattern: str = DEFAULT_READER_PATTERN, *, retry_interval: float = 1.0,
                 debounce: float = 1.0, read_attempts: int = 3, poll_ms: int = 2000):
        require_backend()
        re.compile(reader_pattern)
        self.reader_pattern = reader_pattern
        self.retry_interval = retry_interval
        self.debounce = debounce
        self.read_attempts = max(1, read_attempts)
        self.poll_ms = poll_ms
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._context_lock = threading.Lock()
        self._context: int | None = None
        self._callbacks: tuple[OnCard, OnStatus, OnError | None] | None = None
        self._status: ReaderStatus | None = None
        self._ever_ready = False
        self._last_card = ("", float("-inf"))   # (card ID, when it was last seen on the reader)

    @property
    def status(self) -> ReaderStatus | None:
        return self._status

    def start(self, on_card: OnCard, on_status: OnStatus, on_error: OnError | None = None) -> None:
        """Start watching. ``on_error`` (optional) receives KioskError('card_read_failed') for a failed tap."""
        if self._thread is not None:
            raise RuntimeError("reader already started")
        self._callbacks = (on_card, on_status, on_error)
        self._status, self._ever_ready = None, False
        self._stopping.clear()
        self._thread = threading.Thread(target=self._run, name="pcsc-reader", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 3.0) -> None:
        """Cancel the blocking wait and join the thread. A card that never answers can hold a transmit
        (the reader driver's timeout applies); the daemon thread is then left behind with a warning."""
        thread, self._thread = self._thread, None
        if thread is None:
            return
        self._stopping.set()
        deadline = time.monotonic() + timeout
        while thread.is_alive() and time.monotonic() < deadline:
            with self._context_lock:
                if self._context is not None:
                    try:
                        scard.SCardCancel(self._context)
                    except Exception:
                        pass
            thread.join(0.02)
        if thread.is_alive():
            log.warning("card reader thread did not stop within %.1f s", timeout)

    # --- the loop ---------------------------------------------------------------------------------
    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                self._session()
            except (ServiceLost, ReaderLost) as exc:
                self._report(self._trouble_state(), detail=str(exc))
            except Exception:  # never let the loop die: log, report and retry
                log.exception("card reader loop failed")
                self._report(self._trouble_state(), detail="unexpected error in the reader loop")
            finally:
                self._set_context(None)
            self._stopping.wait(self.retry_interval)

    def _session(self) -> None:
        context = establish_context()
        self._set_context(context)
        pnp_state = STATE_UNAWARE
        while not self._stopping.is_set():
            reader = pick_reader(reader_names(context), self.reader_pattern)
            if reader is not None:
                self._watch(context, reader)
                return
            self._report(self._trouble_state(), detail=f"no reader matching {self.reader_pattern!r}")
            pnp_state = self._wait_for_reader_change(context, pnp_state)

    def _wait_for_reader_change(self, context: int, pnp_state: int) -> int:
        """Wait (up to retry_interval) for pcscd's reader list to change; the new PnP state."""
        wait_ms = int(self.retry_interval * 1000)
        hresult, states = status_change(context, wait_ms, [(PNP_NOTIFICATION, pnp_state)])
        if hresult in _SERVICE_LOST or hresult == F_COMM_ERROR:
            raise ServiceLost(f"waiting for readers: {hresult_name(hresult)}")
        if hresult == SUCCESS and states:
            return states[0][1] & ~STATE_CHANGED
        if hresult not in (E_TIMEOUT, E_CANCELLED):   # no PnP support: plain retry interval
            self._stopping.wait(self.retry_interval)
        return pnp_state

    def _watch(self, context: int, reader: str) -> None:
        """Report READY once the reader's current state is known, then turn state changes into taps.
        A card already lying on the reader at that moment is not a tap (lift it and tap again)."""
        known = self._next_state(context, reader, STATE_UNAWARE, 0)[0]
        self._report(ReaderState.READY, reader)
        self._ever_ready = True
        while not self._stopping.is_set():
            event, received = self._next_state(context, reader, known, self.poll_ms)
            log.debug("state 0x%X -> 0x%X", known, event)
            if event == known:
                continue
            present, now_present = bool(known & STATE_PRESENT), bool(event & STATE_PRESENT)
            retapped = present and now_present and (event >> 16) - (known >> 16) >= 2
            if retapped or (present and not now_present):   # it left (just now, if it came back at once)
                self._last_card = (self._last_card[0], received)
            if now_present and (retapped or not present):
                self._tap(context, reader, received, mute=bool(event & STATE_MUTE))
            known = event

    def _next_state(self, context: int, reader: str, known: int, timeout_ms: int) -> tuple[int, float]:
        """The reader's event state after a change (or ``known`` on timeout / cancel), and when it came."""
        hresult, states = status_change(context, timeout_ms, [(reader, known)])
        received = time.monotonic()
        if hresult in (E_TIMEOUT, E_CANCELLED):
            return known, received
        if hresult in _SERVICE_LOST or hresult == F_COMM_ERROR:
            raise ServiceLost(f"PC/SC service stopped: {hresult_name(hresult)}")
        if hresult in _READER_LOST:
            raise ReaderLost(f"reader {reader!r} vanished: {hresult_name(hresult)}")
        if hresult != SUCCESS:
            raise ServiceLost(f"waiting for a card failed: {hresult_name(hresult)}")
        event = states[0][1]
        if event & _READER_GONE_STATES:
            raise ReaderLost(f"reader {reader!r} vanished (state 0x{event:X})")
        return event & ~STATE_CHANGED, received

    def _tap(self, context: int, reader: str, received: float, mute: bool) -> None:
        result = ReadResult(failure="card does not answer (mute)") if mute else self._read(context, reader)
        if not result.ok:
            log.info("card read failed on %s: %s", reader, result.failure)
            self._emit_error(result.failure)
            return
        last_id, last_seen = self._last_card
        self._last_card = (result.card_id, time.monotonic())
        if result.card_id == last_id and received - last_seen < self.debounce:
            log.debug("same card again within %.1f s: one tap", self.debounce)
            return
        event = CardEvent(card_id=result.card_id, card_type=card_type_from_atr(result.atr),
                          reader=reader, received_monotonic=received)
        self._safe_call(self._callbacks[0], event)

    def _read(self, context: int, reader: str) -> ReadResult:
        result = ReadResult()
        for attempt in range(self.read_attempts):
            result = read_uid(context, reader)
            if result.ok or not result.transient or not self._still_present(context, reader):
                return result
            self._stopping.wait(0.05 * (attempt + 1))
        return result

    def _still_present(self, context: int, reader: str) -> bool:
        hresult, states = status_change(context, 0, [(reader, STATE_UNAWARE)])
        return hresult == SUCCESS and bool(states[0][1] & STATE_PRESENT)

    # --- reporting --------------------------------------------------------------------------------
    def _trouble_state(self) -> ReaderState:
        return ReaderState.DISCONNECTED if self._ever_ready else ReaderState.INIT_FAILED

    def _report(self, state: ReaderState, reader: str = "", detail: str = "") -> None:
        status, previous = ReaderStatus(state=state, reader=reader, detail=detail), self._status
        self._status = status
        if previous is not None and (previous.state, previous.reader) == (state, reader):
            return   # report changes of state only; the latest detail stays readable in ``status``
        log.info("card reader %s %s %s", state.value, reader, detail)
        self._safe_call(self._callbacks[1], status)

    def _emit_error(self, detail: str) -> None:
        on_error = self._callbacks[2]
        if on_error is not None:
            self._safe_call(lambda: on_error(KioskError("card_read_failed", detail=detail)))

    def _set_context(self, context: int | None) -> None:
        with self._context_lock:
            old, self._context = self._context, context
        if old is not None and old != context:
            release_context(old)

    @staticmethod
    def _safe_call(callback: Callable, *args) -> None:
        try:
            callback(*args)
        except Exception:  # a callback's bug must not kill the reader loop
            log.exception("card reader callback failed")
