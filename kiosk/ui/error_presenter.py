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
READING_SECONDS = 30   # an error on the punch path whose details were opened stays this long, then closes


class ErrorDialog(ModalView):
    code = StringProperty("")
    message = StringProperty("")
    cause = StringProperty("")
    remedy = StringProperty("")
    details_open = BooleanProperty(False)
    seconds_left = NumericProperty(0)
    extended = BooleanProperty(False)

    def dismiss(self, *args, **kwargs):
        # Gone at once: during a fade-out the overlay would swallow the next touch (a keypad digit).
        kwargs.setdefault("animation", False)
        return super().dismiss(*args, **kwargs)


class ErrorPresenter:
    def __init__(self) -> None:
        self._queue: deque[tuple[KioskError, float, bool, Callable[[], None] | None]] = deque()
        self.dialog: ErrorDialog | None = None
        self.current: KioskError | None = None
        self._tick = None

    def show(self, error: KioskError, *, auto_dismiss_after: float = 0, details: bool = False,
             on_dismiss: Callable[[], None] | None = None) -> None:
        """Show ``error`` now, or after the errors already waiting. The same error (key and message) as
        the last one shown or queued is not repeated: a flapping reader does not pile up dialogs."""
        log.warning("error shown: %s", error)
        last = self._queue[-1][0] if self._queue else self.current
        if last is not None and (last.key, last.message()) == (error.key, error.message()):
            return
        self._queue.append((error, auto_dismiss_after, details, on_dismiss))
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

    def withdraw(self, keys: set[str], device: str | None = None) -> None:
        """The condition behind these errors has cleared: drop them from the queue and close the one shown.
        With ``device``, only errors of that device (or of none in particular) go: the card reader coming
        back must not hide the fingerprint sensor's 「認証機器の初期化に失敗しました」."""
        def cleared(error) -> bool:
            return error.key in keys and (device is None or error.device in (None, device))

        self._queue = deque(item for item in self._queue if not cleared(item[0]))
        if self.current is not None and cleared(self.current):
            self.dismiss()

    def cancel_timers(self) -> None:
        if self._tick is not None:
            self._tick.cancel()
            self._tick = None

    def _next(self) -> None:
        if not self._queue:
            return
        error, seconds, details, on_dismiss = self._queue.popleft()
        self.current = error
        self.dialog = ErrorDialog(code=error.code or "", message=error.message(), cause=error.cause(),
                                  remedy=error.remedy(), seconds_left=int(seconds), details_open=details)
        self.dialog.bind(on_dismiss=lambda *_: self._closed(on_dismiss))
        if seconds > 0:
            self._tick = Clock.schedule_interval(self._count_down, 1)
        self.dialog.open(animation=False)

    def _count_down(self, _dt: float) -> None:
        dialog = self.dialog
        if dialog is None:
            return
        if dialog.details_open and not dialog.extended:   # reading the details: more time, once
            dialog.seconds_left, dialog.extended = max(dialog.seconds_left, READING_SECONDS), True
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
