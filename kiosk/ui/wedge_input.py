"""Keys from the window into a keyboard-wedge card reader, on the screens that have no text field.

The wedge adapter (pure logic) decides what is a card burst; keys it hands back are dropped here,
because standby and the punch screens take no typing (the keypad is on screen)."""
from __future__ import annotations

import time
from typing import Callable

from kivy.clock import Clock
from kivy.core.window import Window

from kiosk.adapters.wedge_reader import WedgeCardReader

ENTER_KEYCODES = (13, 271)   # Return, keypad Enter


class WedgeKeyboard:
    def __init__(self, reader: WedgeCardReader, accepts: Callable[[], bool]):
        self.reader = reader
        self.accepts = accepts
        self._flush = Clock.create_trigger(lambda _dt: self.reader.flush(), 0)
        Window.bind(on_key_down=self._on_key_down)

    def _on_key_down(self, _window, key, _scancode, codepoint, _modifiers) -> bool:
        if not self.accepts():
            return False
        name = "enter" if key in ENTER_KEYCODES else (codepoint or "")
        if not name:
            return False
        self.reader.feed(name, time.monotonic())
        deadline = self.reader.flush_deadline
        if deadline is not None:
            self._flush.timeout = max(0.0, deadline - time.monotonic()) + 0.005
            self._flush()
        return True

    def unbind(self) -> None:
        Window.unbind(on_key_down=self._on_key_down)
