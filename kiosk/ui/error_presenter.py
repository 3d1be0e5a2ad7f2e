"""The error presenter: one modal, keyed by catalogue key; errors queue, they never stack.

On the punch path an error dismisses itself after a few seconds so that the kiosk returns to standby."""
from __future__ import annotations

import logging
from collections import deque
from typing import Callable

from kivy.clock import Clock
from kivy.properties import BooleanProperty, NumericProperty, StringProperty
from kivy.uix.modalview import ModalView

from kiosk.errors import KioskError

log = logging.getLogger(__name__)


class ErrorDialog(ModalView):
    code = StringProperty("")
    message = StringProperty("")
    cause = StringProperty("")
    remedy = StringProperty("")
    details_open = BooleanProperty(False)
    seconds_left = NumericProperty(0)


class ErrorPresenter:
    def __init__(self) -> None:
        self._queue: deque[tuple[KioskError, float, Callable[[], None] | None]] = deque()
        self.dialog: ErrorDialog | None = None
        self.current: KioskError | None = None
        self._tick = None

    def show(self, error: KioskError, *, auto_dismiss_after: float = 0,
             on_dismiss: Callable[[], None] | None = None) -> None:
        """Show ``error`` now, or after the errors already waiting (same key twice in a row is shown once)."""
        log.warning("error shown: %s", error)
        if self.current is not None and self.current.key == error.key and not self._queue:
            return
        self._queue.append((error, auto_dismiss_after, on_dismiss))
        if self.dialog is None:
            self._next()

    @property
    def is_open(self) -> bool:
        return self.dialog is not None

    @property
    def pending(self) -> int:
        return len(self._queue)

    def dismiss(self) -> None:
        if self.dialog is not None:
            self.dialog.dismiss()

    def _next(self) -> None:
        if not self._queue:
            return
        error, seconds, on_dismiss = self._queue.popleft()
        self.current = error
        self.dialog = ErrorDialog(code=error.code or "", message=error.message(), cause=error.cause(),
                                  remedy=error.remedy(), seconds_left=int(seconds))
        self.dialog.bind(on_dismiss=lambda *_: self._closed(on_dismiss))
        if seconds > 0:
            self._tick = Clock.schedule_interval(self._count_down, 1)
        self.dialog.open(animation=False)

    def _count_down(self, _dt: float) -> None:
        dialog = self.dialog
        if dialog is None or dialog.details_open:   # reading the details pauses the countdown
            return
        dialog.seconds_left -= 1
        if dialog.seconds_left <= 0:
            dialog.dismiss()

    def _closed(self, on_dismiss: Callable[[], None] | None) -> None:
        if self._tick is not None:
            self._tick.cancel()
            self._tick = None
        self.dialog, self.current = None, None
        if on_dismiss is not None:
            on_dismiss()
        self._next()
