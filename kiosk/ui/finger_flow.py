"""Punch by finger on the Kivy thread: while the punch screen waits for a credential, a capture waits for a
finger on the bridge's slow worker; leaving the wait (a card, 戻る, the countdown, another screen) cancels it.

A finger becomes a probe off the UI thread; here it must still be accepted by the punch screen (one credential
is one punch, whichever comes first), then identification and the punch run on the punch worker and end in the
same confirmation or error as a card."""
from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING

from kiosk.errors import KioskError

if TYPE_CHECKING:
    from kiosk.ui.app import KioskApp

log = logging.getLogger(__name__)


class FingerFlow:
    def __init__(self, app: "KioskApp"):
        self.app = app
        self._cancel: threading.Event | None = None
        self.broken: KioskError | None = None    # a device failure stops the loop until restart

    @property
    def service(self):
        return self.app.kiosk.fingerprint

    @property
    def enabled(self) -> bool:
        return self.service is not None and self.broken is None

    def bind_screens(self) -> None:
        if self.service is None:
            return
        self.app.punch_screen.finger = True
        self.app.manager.bind(current=lambda *_: self.sync())
        self.app.punch_screen.bind(phase=lambda *_: self.sync(), purpose=lambda *_: self.sync())

    def _wanted(self) -> bool:
        app = self.app
        return (self.enabled and app.manager.current == "punch" and app.punch_screen.phase == "wait"
                and app.punch_screen.purpose == "punch")

    def sync(self) -> None:
        """Start the capture when the punch screen waits; cancel it when it no longer does."""
        wanted = self._wanted()
        if wanted and self._cancel is None:
            cancel = threading.Event()
            self._cancel = cancel
            self.app.bridge.submit(lambda: self.service.wait_for_finger(cancel),
                                   lambda probe: self._finger(probe, cancel),
                                   lambda error: self._failed(error, cancel), slow=True)
        elif not wanted and self._cancel is not None:
            self._cancel.set()
            self._cancel = None

    def stop(self) -> None:
        if self._cancel is not None:
            self._cancel.set()
            self._cancel = None

    def _ended(self, cancel: threading.Event) -> bool:
        """The capture returned: forget it; True if it had been cancelled meanwhile."""
        if self._cancel is cancel:
            self._cancel = None
        return cancel.is_set()

    def _finger(self, probe, cancel: threading.Event) -> None:
        if self._ended(cancel):
            return
        app = self.app
        if app.presenter.is_open or not self._wanted() or not app.punch_screen.accept_credential():
            self.sync()   # an error is being read or a card came first: wait for the next finger
            return
        kind, service = app.punch_screen.kind, self.service
        app.bridge.submit(lambda: service.punch(kind, probe), app.flow._punched, app.flow._punch_failed)

    def _failed(self, error: KioskError, cancel: threading.Event) -> None:
        if self._ended(cancel):
            return   # cancelled by leaving the wait: not an error
        if error.key == "auth_failed":
            self.sync()   # no finger within the port's timeout: keep waiting
            return
        self.broken = error   # device failure: say so once; cards keep working
        log.error("fingerprint sensor failed: %s", error)
        self.app.sound.play("error")
        self.app.presenter.show(error, auto_dismiss_after=self.app.display.error_seconds)
