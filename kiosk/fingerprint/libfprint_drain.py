"""Only a fresh finger: while no capture waits, the libfprint adapter keeps one running and drops what it reads.

libfprint reads an image device only during an action. A finger that reached the device while nothing captured
(``virtual_image``: an image written to its socket; a real sensor: a finger already resting on it) would be
delivered by the *next* capture, long after, to whoever waits then. So between the port's captures this drain
keeps an "idle" capture running on the loop thread: whatever it reads is stamped with the moment it was read
(``Capture.read_at``) and kept only as the latest drained read; the port's next ``capture(since=...)`` uses it only
if it was read at or after ``since`` (the wait had begun, the capture's worker had just not started yet), and
otherwise discards it. Prompts are not shown for idle captures (nobody is asked for a finger).

Everything here runs on the adapter's GLib loop thread except :meth:`start`, :meth:`stop` and :meth:`take`.
"""
from __future__ import annotations

import logging
from typing import Callable

from kiosk.fingerprint.libfprint_loop import Result
from kiosk.fingerprint.prompts import FingerPrompt

log = logging.getLogger(__name__)


class IdleDrain:
    def __init__(self, loop: Callable[[], object], FPrint, GLib, Gio, *, to_capture: Callable, on_removed: Callable):
        self._loop, self._FPrint, self._GLib, self._Gio = loop, FPrint, GLib, Gio
        self._to_capture, self._on_removed = to_capture, on_removed
        self.active = False          # an idle capture is running (loop thread): its prompts are not shown
        self._wanted = False
        self._dev = None
        self._cancellable = None
        self._stopping: list[Result] = []
        self._last = None            # the latest drained read (a Capture), until ``take``
        self.reads = 0               # fingers read while idle (diagnostics, tests)

    # --- any thread -------------------------------------------------------------------------------------------
    def start(self, dev) -> None:
        """Keep a capture running on ``dev`` until :meth:`stop`."""
        loop = self._loop()
        if loop.alive:
            loop.post(lambda: self._begin(dev))

    def stop(self, timeout: float) -> bool:
        """End the idle capture and wait for libfprint to finish it; False if it did not within ``timeout``."""
        loop = self._loop()
        if not loop.alive:
            return True
        try:
            loop.call(self._end, timeout=timeout)
        except Exception as exc:  # noqa: BLE001 - a device that does not end its capture: the caller decides
            log.warning("the idle capture did not end: %r", exc)
            return False
        return True

    def take(self):
        """The latest drained read (or None), forgotten from now on. Call after :meth:`stop`."""
        last, self._last = self._last, None
        return last

    # --- loop thread ------------------------------------------------------------------------------------------
    def _begin(self, dev) -> None:
        self._wanted, self._dev = True, dev
        if not self.active:
            self._capture()

    def _end(self, res: Result) -> None:
        self._wanted = False
        if self.active:
            self._stopping.append(res)
            self._cancellable.cancel()
        else:
            res.set()

    def _capture(self) -> None:
        if not self._wanted or self._dev is None:
            return
        self._cancellable = self._Gio.Cancellable.new()
        self.active = True
        self._dev.capture(True, self._cancellable, self._done)

    def _done(self, dev, result) -> None:
        self.active = False
        again = False
        try:
            self._last = self._to_capture(dev.capture_finish(result))
            self.reads += 1
            log.info("a finger read while no screen waited for it: kept aside, used only by a wait begun before it")
            again = True
        except self._GLib.Error as exc:
            again = self._after_error(exc)
        for res in self._stopping:
            res.set()
        self._stopping.clear()
        if again and self._wanted:
            self._loop().post(self._capture)

    def _after_error(self, exc) -> bool:
        """True if the idle capture should go on (a retry); a removal is reported; other errors stop it."""
        FPrint, GLib, Gio = self._FPrint, self._GLib, self._Gio
        if exc.matches(Gio.io_error_quark(), Gio.IOErrorEnum.CANCELLED):
            return False
        if exc.domain == GLib.quark_to_string(FPrint.device_retry_quark()):
            return True
        if exc.domain == GLib.quark_to_string(FPrint.device_error_quark()) and \
                exc.code == int(FPrint.DeviceError.REMOVED):
            self._on_removed()
        else:
            log.warning("idle capture ended: %s %s: %s", exc.domain, exc.code, exc.message)
        return False


def retry_prompt(FPrint, code: int) -> FingerPrompt:
    """The prompt for a libfprint ``DeviceRetry`` code (shared with the adapter's captures)."""
    retry = FPrint.DeviceRetry
    return {
        int(retry.TOO_SHORT): FingerPrompt.RETRY_TOO_SHORT,
        int(retry.CENTER_FINGER): FingerPrompt.RETRY_CENTER_FINGER,
        int(retry.REMOVE_FINGER): FingerPrompt.RETRY_REMOVE_FINGER,
    }.get(int(code), FingerPrompt.RETRY_GENERAL)
