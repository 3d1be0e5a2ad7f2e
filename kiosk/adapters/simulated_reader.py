"""A simulated card reader for the demo and UI tests: cards are "tapped" by calling :meth:`tap`.

Like a real reader, it delivers events on its own thread, so the UI path is the same as in production."""
from __future__ import annotations

import queue
import threading
import time
from typing import Callable

from dakoku_core.domain.credentials import normalise_card_id
from kiosk.ports import CardEvent, CardType, ReaderState, ReaderStatus

NAME = "Dakoku simulated reader"


class SimulatedCardReader:
    def __init__(self) -> None:
        self._queue: queue.Queue[CardEvent | None] = queue.Queue()
        self._thread: threading.Thread | None = None

    def start(self, on_card: Callable[[CardEvent], None], on_status: Callable[[ReaderStatus], None],
              on_error=None) -> None:
        def loop() -> None:
            on_status(ReaderStatus(ReaderState.READY, NAME))
            while (event := self._queue.get()) is not None:
                try:
                    on_card(event)
                except Exception:  # noqa: BLE001 - a failing listener must not kill the reader
                    pass

        self._thread = threading.Thread(target=loop, name="simulated-reader", daemon=True)
        self._thread.start()

    def tap(self, card_id: str, card_type: CardType = CardType.FELICA) -> None:
        self._queue.put(CardEvent(normalise_card_id(card_id), card_type, NAME, time.monotonic()))

    def stop(self) -> None:
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(timeout=2)
            self._thread = None
