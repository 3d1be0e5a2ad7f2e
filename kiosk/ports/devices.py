"""Device and system ports: the card reader (and the events it reports), sound, the clock and the browser.

The fingerprint sensor's port stays beside its adapters in :mod:`kiosk.fingerprint.sensor` (that package is shared
with the server and is being moved by another change); :mod:`kiosk.ports` re-exports it lazily."""
from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING, Callable, Protocol

from dakoku_core.domain.model import ClockReading

if TYPE_CHECKING:
    from dakoku_core.errors import KioskError


class Clock(Protocol):
    def read(self) -> ClockReading: ...


class CardType(str, Enum):
    FELICA = "felica"
    MIFARE = "mifare"
    OTHER = "other"


@dataclass(frozen=True)
class CardEvent:
    """One physical tap: the card's ID (hex, upper case), its type, the reader and when we got it.

    ``received_monotonic`` (``time.monotonic``) is when the reader read the tap, not when the UI saw it: a tap counts
    only if it was read while a screen was waiting for it (kiosk/services/credential_window.py)."""

    card_id: str
    card_type: CardType
    reader: str
    received_monotonic: float   # when the adapter read it (PC/SC state change, wedge Enter, simulated tap)


class ReaderState(str, Enum):
    READY = "ready"
    DISCONNECTED = "disconnected"   # reader vanished or the PC/SC service stopped: retrying
    INIT_FAILED = "init_failed"     # never came up: retrying in the background


@dataclass(frozen=True)
class ReaderStatus:
    state: ReaderState
    reader: str = ""
    detail: str = ""


class CardReader(Protocol):
    """A card reader. Callbacks run on the reader's own thread; the UI bridge moves them onto the UI thread."""

    def start(self, on_card: Callable[[CardEvent], None], on_status: Callable[[ReaderStatus], None],
              on_error: Callable[["KioskError"], None] | None = None) -> None:
        """``on_error`` gets a catalogue error for a tap that could not be read (e.g. card_read_failed)."""

    def stop(self) -> None: ...


class Sound(Protocol):
    def play(self, name: str) -> None: ...


class Browser(Protocol):
    """Opens a URL for the person at the kiosk (タイムカード; kiosk.adapters.browser)."""

    def open(self, url: str) -> None: ...
