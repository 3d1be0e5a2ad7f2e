"""PC/SC at the lowest level (pyscard's scard module): contexts, status changes, reader names, the UID read,
and the translation of hresults and status words. Used by the card reader adapter and the self-diagnosis;
nothing above the adapters sees pyscard.
"""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass

try:
    from smartcard import scard
except ImportError as _exc:  # pragma: no cover - reported as a catalogue error when the adapter is built
    scard = None
    _IMPORT_ERROR = repr(_exc)

from dakoku_core.errors import KioskError
from kiosk.ports import CardType

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
