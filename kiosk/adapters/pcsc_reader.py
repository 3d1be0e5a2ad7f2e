"""PC/SC card reader adapter (pyscard): one tap on the configured reader → one CardEvent.

The adapter runs its own ``SCardGetStatusChange`` loop on a background thread (pyscard's CardMonitor
threads die for good when pcscd restarts) and survives pcscd being absent, stopping or restarting, and
the reader vanishing: it reports INIT_FAILED / DISCONNECTED and keeps retrying until it is READY again.
Library results (pyscard hresults, status words) are translated here; nothing above sees pyscard.
See docs/card_readers.md for the behaviour table.
"""
from __future__ import annotations

import logging
import re
import threading
import time
from dataclasses import dataclass
from typing import Callable

try:
    from smartcard import scard
except ImportError as _exc:  # pragma: no cover - reported as a catalogue error when the adapter is built
    scard = None
    _IMPORT_ERROR = repr(_exc)

from kiosk.errors import KioskError
from kiosk.ports import CardEvent, CardType, ReaderState, ReaderStatus

log = logging.getLogger(__name__)

# Sony PaSoRi: RC-S300/S, RC-S300/P, RC-S660/U (CCID, pcscd out of the box), RC-S380 ("Port-100"/"PaSoRi").
DEFAULT_READER_PATTERN = r"(?i)RC-S(300|380|660)|PaSoRi"
GET_UID_APDU = [0xFF, 0xCA, 0x00, 0x00, 0x00]
PNP_NOTIFICATION = "\\\\?PnP?\\Notification"
_PCSC_RID = bytes.fromhex("A000000306")

# PC/SC return codes and states (fixed by the standard; named here so the module imports without pyscard).
SUCCESS, E_CANCELLED, E_INVALID_HANDLE, E_TIMEOUT = 0, 0x80100002, 0x80100003, 0x8010000A
E_UNKNOWN_READER, F_COMM_ERROR, E_READER_UNAVAILABLE = 0x80100009, 0x80100013, 0x80100017
E_NO_SERVICE, E_SERVICE_STOPPED, E_NO_READERS_AVAILABLE = 0x8010001D, 0x8010001E, 0x8010002E
STATE_UNAWARE, STATE_IGNORE, STATE_CHANGED, STATE_UNKNOWN = 0x0, 0x1, 0x2, 0x4
STATE_UNAVAILABLE, STATE_EMPTY, STATE_PRESENT, STATE_MUTE = 0x8, 0x10, 0x20, 0x200
_SERVICE_LOST = {E_NO_SERVICE, E_SERVICE_STOPPED, E_INVALID_HANDLE}
_READER_LOST = {E_UNKNOWN_READER, E_READER_UNAVAILABLE}
_READER_GONE_STATES = STATE_UNKNOWN | STATE_UNAVAILABLE | STATE_IGNORE


def require_backend() -> None:
    """KioskError('device_init_failed') when pyscard / libpcsclite cannot be loaded on this machine."""
    if scard is None:
        raise KioskError("device_init_failed", detail=f"pyscard is not available: {_IMPORT_ERROR}")


class ServiceLost(Exception):
    """pcscd is unreachable or our context died with it (internal; never leaves this package)."""


class ReaderLost(Exception):
    """The reader vanished (internal; never leaves this package)."""


def hresult_name(hresult: int) -> str:
    hresult &= 0xFFFFFFFF
    for name in dir(scard) if scard is not None else ():
        if name.startswith(("SCARD_E_", "SCARD_W_", "SCARD_F_")) and getattr(scard, name) == hresult:
            return f"{name} (0x{hresult:08X})"
    return f"0x{hresult:08X}"


def _call(fn, *args):
    """Call a pyscard function; any exception it raises becomes ServiceLost (never escapes upwards)."""
    try:
        result = fn(*args)
    except Exception as exc:  # pyscard raises for e.g. a dead handle; translate at this edge
        raise ServiceLost(f"{fn.__name__}: {exc!r}") from None
    if isinstance(result, int):
        return result & 0xFFFFFFFF, None
    return (result[0] & 0xFFFFFFFF,) + tuple(result[1:])


def status_change(context: int, timeout_ms: int, states: list[tuple]) -> tuple[int, list]:
    """SCardGetStatusChange: (hresult, [(reader, event state, atr), ...])."""
    return _call(scard.SCardGetStatusChange, context, timeout_ms, states)


def establish_context() -> int:
    hresult, context = _call(scard.SCardEstablishContext, scard.SCARD_SCOPE_USER)
    if hresult != SUCCESS:
        raise ServiceLost(f"PC/SC service (pcscd) not reachable: {hresult_name(hresult)}")
    return context


def release_context(context: int) -> None:
    try:
        scard.SCardReleaseContext(context)
    except Exception:  # a context that died with pcscd cannot be released: nothing to do
        pass


def reader_names(context: int) -> list[str]:
    hresult, readers = _call(scard.SCardListReaders, context, [])
    if hresult in (E_NO_READERS_AVAILABLE, E_READER_UNAVAILABLE):
        return []
    if hresult != SUCCESS:
        raise ServiceLost(f"listing readers failed: {hresult_name(hresult)}")
    return list(readers or [])


def list_readers() -> list[str]:
    """Names of the readers present now (for the settings screen). KioskError if pcscd is unreachable."""
    require_backend()
    try:
        context = establish_context()
    except ServiceLost as exc:
        raise KioskError("device_init_failed", detail=str(exc)) from None
    try:
        return reader_names(context)
    except ServiceLost as exc:
        raise KioskError("device_init_failed", detail=str(exc)) from None
    finally:
        release_context(context)


def pick_reader(names: list[str], pattern: str) -> str | None:
    """The first reader whose name matches ``pattern`` (re.search), never simply the first reader."""
    regex = re.compile(pattern)
    return next((name for name in names if regex.search(name)), None)


def card_type_from_atr(atr: bytes) -> CardType:
    """PC/SC Part 3 ATRs for contactless storage cards: RID A0 00 00 03 06, standard byte, card name."""
    at = atr.find(_PCSC_RID)
    if at < 0 or len(atr) < at + 8:
        return CardType.OTHER
    standard, name = atr[at + 5], int.from_bytes(atr[at + 6:at + 8], "big")
    if standard == 0x11 or name == 0x003B:
        return CardType.FELICA
    if standard == 0x03:        # ISO 14443 A part 3: MIFARE Classic / Ultralight / Mini, NTAG
        return CardType.MIFARE
    return CardType.OTHER


def looks_random_uid(card_id: str) -> bool:
    """ISO 14443-3: a single-size (4-byte) UID starting with 08 is a random ID (phones, some cards)."""
    return len(card_id) == 8 and card_id.upper().startswith("08")


@dataclass(frozen=True)
class ReadResult:
    """What one attempt to read a present card gave: a card ID, or a failure (final or transient)."""

    card_id: str = ""
    atr: bytes = b""
    failure: str = ""
    transient: bool = False

    @property
    def ok(self) -> bool:
        return bool(self.card_id)


def read_uid(context: int, reader: str) -> ReadResult:
    """Connect, GET DATA (UID / IDm), disconnect. ServiceLost / ReaderLost for a dead service or reader."""
    hresult, card, protocol = _call(scard.SCardConnect, context, reader, scard.SCARD_SHARE_SHARED,
                                    scard.SCARD_PROTOCOL_T0 | scard.SCARD_PROTOCOL_T1)
    if hresult != SUCCESS:
        return _failed("connect", hresult)
    try:
        hresult, _name, _state, _proto, atr = _call(scard.SCardStatus, card)
        atr = bytes(atr or b"") if hresult == SUCCESS else b""
        hresult, response = _call(scard.SCardTransmit, card, protocol, GET_UID_APDU)
        if hresult != SUCCESS:
            return _failed("transmit", hresult)
        response = bytes(response or b"")
        if len(response) < 2:   # vpcd / the driver lost the card during the exchange
            return ReadResult(atr=atr, failure="card moved away during the read", transient=True)
        if response[-2:] != b"\x90\x00":
            return ReadResult(atr=atr, failure=f"card answered status word {response[-2:].hex().upper()}")
        if len(response) == 2:
            return ReadResult(atr=atr, failure="card answered an empty ID")
        return ReadResult(card_id=response[:-2].hex().upper(), atr=atr)
    finally:
        try:
            scard.SCardDisconnect(card, scard.SCARD_LEAVE_CARD)
        except Exception:
            pass


def _failed(step: str, hresult: int) -> ReadResult:
    if hresult in _SERVICE_LOST:
        raise ServiceLost(f"{step}: {hresult_name(hresult)}")
    if hresult in _READER_LOST:
        raise ReaderLost(f"{step}: {hresult_name(hresult)}")
    # removed / unpowered / reset / not transacted / sharing violation / comm error: retry while present
    return ReadResult(failure=f"{step} failed: {hresult_name(hresult)}", transient=True)


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
