"""The punch path's waiting window, opened and closed by what the screens show (on the Kivy thread).

Standby waits for a tap (in a time-of-day mode it punches, otherwise it says 「打刻種別を選択してください」), and the
punch screen waits while its phase is ``wait`` (a punch type, タイムカード or ヘルプ登録), and while a confirmation
still offers 取り消し (the next person may tap: that ends the offer). Each time the kiosk enters one of these waits the
window opens anew; anywhere else (confirming, the password keypad, 設定) it is closed. A card or finger read outside
the current wait is discarded (:mod:`kiosk.services.credential_window`)."""
from __future__ import annotations

from typing import TYPE_CHECKING, Callable

from kiosk.services.credential_window import WaitingWindow

if TYPE_CHECKING:
    from kiosk.ui.flow_host import FlowHost


class PunchWaits:
    def __init__(self, app: "FlowHost", offering_undo: Callable[[], bool] = lambda: False):
        self.app = app
        self._offering_undo = offering_undo
        self.window = WaitingWindow("punch")
        self._state: tuple | None = None

    def bind_screens(self) -> None:
        self.app.manager.bind(current=lambda *_: self.refresh())
        self.app.punch_screen.bind(phase=lambda *_: self.refresh(), purpose=lambda *_: self.refresh())
        self.refresh()

    def _waiting(self) -> tuple | None:
        app = self.app
        current = app.manager.current
        if current == "standby":
            return ("standby",)
        if current == "punch" and app.punch_screen.phase == "wait":
            return ("punch", app.punch_screen.purpose)
        if current == "punch" and app.punch_screen.phase == "done" and self._offering_undo():
            return ("undo",)
        return None

    def refresh(self) -> None:
        """Follow the screens (idempotent: callers may refresh before they look at the window)."""
        state = self._waiting()
        if state is None:
            self.window.close()
        elif state != self._state or not self.window.is_open:
            self.window.open()
        self._state = state

    def fresh(self, read_at: float) -> bool:
        """True if a credential read at ``read_at`` (monotonic) was read during the current wait."""
        self.refresh()
        return self.window.accepts(read_at)
