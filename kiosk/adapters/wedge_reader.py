"""Keyboard-wedge card reader: a reader that "types" the card ID followed by Enter, very fast.

Pure logic (no Kivy): the UI feeds every key it receives as ``feed(key, timestamp)`` and delivers
the keys ``feed`` / ``flush`` hand back as ordinary input (the UI calls ``flush`` from a timer, at
``flush_deadline``). A key that could start a card burst is
held back for at most ``max_gap`` seconds; a burst of ``min_length``..``max_length`` allowed characters,
each within ``max_gap`` of the previous one and ending in Enter, becomes one CardEvent and is swallowed.
Anything else (a slow key, a character that is not allowed, too long, Enter too early) is handed back,
in order, so normal typing is never stolen — only delayed by up to ``max_gap`` plus the UI's flush tick.

Callbacks run on the thread that calls ``feed`` (the UI thread); the UI bridge accepts that too.
"""
from __future__ import annotations

import logging
import string
import time
from dataclasses import dataclass
from typing import Callable

from kiosk.ports import CardEvent, CardType, ReaderState, ReaderStatus

log = logging.getLogger(__name__)
ENTER_KEYS = frozenset({"\r", "\n", "enter", "numpadenter", "return"})
HEX_DIGITS = string.hexdigits
NAME = "keyboard wedge"


@dataclass(frozen=True)
class WedgeConfig:
    min_length: int = 8                 # shortest ID the reader types (4-byte UID = 8 hex digits)
    max_length: int = 20                # longest (7-byte UID = 14, FeliCa IDm = 16, decimal forms ~20)
    allowed: str = HEX_DIGITS           # characters an ID may contain
    max_gap: float = 0.05               # seconds between two keys of one burst (wedges type in 1-20 ms)
    id_format: str = "hex"              # "hex": the ID as typed; "decimal": a decimal number → hex
    debounce: float = 1.0               # the same ID again within this many seconds is the same tap
    card_type: CardType = CardType.OTHER
    reader_name: str = NAME

    def __post_init__(self) -> None:
        if not 1 <= self.min_length <= self.max_length:
            raise ValueError("need 1 <= min_length <= max_length")
        if self.max_gap <= 0:
            raise ValueError("max_gap must be positive")
        if self.id_format not in ("hex", "decimal"):
            raise ValueError("id_format must be 'hex' or 'decimal'")


class WedgeCardReader:
    """The CardReader port for keyboard-wedge readers, fed by the UI's key handler."""

    def __init__(self, config: WedgeConfig | None = None):
        self.config = config or WedgeConfig()
        self._held: list[str] = []          # keys that may be a burst, in order
        self._last_at: float | None = None  # timestamp of the last held key
        self._on_card: Callable[[CardEvent], None] | None = None
        self._last_card = ("", float("-inf"))   # (ID, when its burst ended): wedges may repeat a card

    # --- CardReader port ----------------------------------------------------------------------------
    def start(self, on_card: Callable[[CardEvent], None], on_status: Callable[[ReaderStatus], None],
              on_error: Callable | None = None) -> None:
        self._on_card = on_card
        _safe(on_status, ReaderStatus(ReaderState.READY, self.config.reader_name))

    def stop(self) -> None:
        self._on_card = None

    # --- fed by the UI --------------------------------------------------------------------------------
    @property
    def flush_deadline(self) -> float | None:
        """When held keys become ordinary typing unless another key comes (for the UI's timer)."""
        return None if not self._held else self._last_at + self.config.max_gap

    def feed(self, key: str, timestamp: float | None = None) -> list[str]:
        """One key: its text (one character) or a key name such as 'enter' or 'backspace'.

        Returns the keys to deliver as ordinary input now, in order and exactly as they were fed
        (often none while a possible burst is held; never the keys of a recognised card burst)."""
        now = time.monotonic() if timestamp is None else timestamp
        if self._on_card is None:
            return [key]
        released = self.flush(now)
        if _is_enter(key):
            return released + self._enter(now, key)
        if len(key) == 1 and key in self.config.allowed and len(self._held) < self.config.max_length:
            self._held.append(key)
            self._last_at = now
            return released
        return released + self._release() + [key]

    def flush(self, now: float | None = None) -> list[str]:
        """Hand back held keys once the gap since the last one proves they were typed by a person."""
        now = time.monotonic() if now is None else now
        if self._held and now - self._last_at > self.config.max_gap:
            return self._release()
        return []

    # --- internals ----------------------------------------------------------------------------------
    def _enter(self, now: float, key: str) -> list[str]:
        config = self.config
        card_id = ""
        if config.min_length <= len(self._held) <= config.max_length:
            card_id = _card_id("".join(self._held), config.id_format)
        if not card_id:
            return self._release() + [key]
        self._held, self._last_at = [], None
        last_id, last_at = self._last_card
        self._last_card = (card_id, now)
        if card_id != last_id or now - last_at >= config.debounce:
            _safe(self._on_card, CardEvent(card_id, config.card_type, config.reader_name, now))
        return []

    def _release(self) -> list[str]:
        keys, self._held, self._last_at = self._held, [], None
        return keys


def _card_id(typed: str, id_format: str) -> str:
    """Upper-case hex with an even number of digits (as CardEvent wants), or '' if it is not an ID."""
    try:
        value = int(typed, 10 if id_format == "decimal" else 16)
    except ValueError:
        return ""
    digits = typed.upper() if id_format == "hex" else f"{value:X}"
    return digits if len(digits) % 2 == 0 else "0" + digits


def _is_enter(key: str) -> bool:
    return key in ("\r", "\n") or key.lower() in ENTER_KEYS


def _safe(callback: Callable | None, *args) -> None:
    if callback is None:
        return
    try:
        callback(*args)
    except Exception:  # a listener's bug must not break typing
        log.exception("wedge reader callback failed")
