"""The libfprint adapter of the sensor port, through PyGObject (``gi.repository.FPrint``, libfprint 2).

libfprint is asynchronous on a GLib main context: every call runs on one loop thread
(:mod:`kiosk.fingerprint.libfprint_loop`), callers block on a result with a deadline. Image devices only:
``FpDevice.capture`` gives the image to our own extractor; libfprint's enrol / verify / identify (bozorth3, first
match >= 40, no scores) are not used. A device that cannot capture images (match-on-chip) is refused at ``open``
with ``device_init_failed``.

Re-plug: a removed device (its ``removed`` signal, or a capture ending with ``DeviceError.REMOVED``) is reported
as ``SensorStatus.ABSENT``; the capture it broke fails. The next capture enumerates again in a fresh
``FpContext`` (a new context also finds virtual devices and USB devices plugged in since) and reopens, up to
``REOPEN_ATTEMPTS`` times ``REOPEN_PAUSE`` apart; success is reported as ``PRESENT``, failure is
``device_init_failed`` and the one after tries again. ``close()`` then ``open()`` also works (a new loop
thread and a fresh enumeration): the way to recover from a device error that was not a removal.

Only a fresh finger: between captures an idle capture reads the device (:mod:`kiosk.fingerprint.libfprint_drain`), so
a finger read before a wait began is discarded, never handed to the next capture. libfprint's own NBIS detection
turns an image without minutiae into ``DeviceRetry.GENERAL``: the ``RETRY_GENERAL`` prompt.
"""
from __future__ import annotations

import logging
import threading
import time

import numpy as np

from dakoku_core.errors import Situation
from kiosk.fingerprint.libfprint_drain import IdleDrain, retry_prompt
from kiosk.fingerprint.libfprint_loop import GLibLoopThread, Result, load_fprint
from kiosk.fingerprint.prompts import FingerPrompt, SensorStatus
from kiosk.fingerprint.sensor import (DEFAULT_DPI, Callbacks, Capture, PromptCallback, StatusCallback, device_failure,
                                      init_failed, user_cancelled)

log = logging.getLogger(__name__)

CANCEL_GRACE = 3.0           # after cancelling a capture, how long we wait for libfprint to finish it
POLL = 0.02                  # how often a blocked caller looks at its cancel event and deadline
REOPEN_ATTEMPTS = 3          # after a removal: enumerate-and-open attempts per capture
REOPEN_PAUSE = 0.5           # between those attempts (a USB device takes a moment to enumerate)


class LibfprintSensor:
    """A libfprint image device. ``driver`` picks a driver id (e.g. ``"uru4000"``, ``"virtual_image"``); ``None``
    takes the first device that can capture images. ``dpi`` is used when the device does not report its
    resolution (libfprint gives pixels per mm, 0 when unknown)."""

    name = "libfprint"

    def __init__(self, *, driver: str | None = None, dpi: int = DEFAULT_DPI,
                 on_prompt: PromptCallback | None = None, on_status: StatusCallback | None = None) -> None:
        self._FPrint, self._GLib, self._Gio = load_fprint()
        self._driver, self._dpi = driver, dpi
        self._callbacks = Callbacks(on_prompt, on_status)
        self._dev = None
        self._ctx = None
        self._removed = False         # the device went away: the next capture enumerates again
        self._capture_lock = threading.Lock()
        self._loop = GLibLoopThread(self._GLib)
        self._drain = IdleDrain(lambda: self._loop, self._FPrint, self._GLib, self._Gio,
                                to_capture=self._to_capture, on_removed=self._mark_removed)
        self.device_name = ""

    # --- the port ---------------------------------------------------------------------------------------------

    def set_callbacks(self, prompt: PromptCallback | None = None, status: StatusCallback | None = None) -> None:
        self._callbacks.set(prompt, status)

    def open(self) -> None:
        if self._dev is not None and not self._removed:
            return
        if not self._loop.alive:          # opened again after close(): a new loop thread
            self._loop = GLibLoopThread(self._GLib)
        self._open_device()
        self._drain.start(self._dev)      # from now on, a finger read while nobody waits is not kept for later

    def _open_device(self) -> None:
        """Enumerate in a new context, open the first matching device, report PRESENT."""
        dev = self._loop.call(self._find_and_open)
        if not self._can_capture(dev):
            self._close_device(dev)
            raise init_failed(f"{dev.get_driver()} ({dev.get_name()}) cannot deliver images (match-on-chip); "
                              "the kiosk needs an image sensor")
        self._dev, self._removed = dev, False
        self.device_name = f"{dev.get_driver()}: {dev.get_name()}"
        self._loop.call(lambda res: res.set(value=self._connect_signals(dev)))
        self._callbacks.status(SensorStatus.PRESENT)

    def _find_and_open(self, res: Result) -> None:
        """On the loop thread: enumerate, pick the device, start opening it; ``res`` gets the opened device.
        Always a new context: a context enumerates once, and only it sees devices plugged in since."""
        GLib = self._GLib
        self._ctx = self._FPrint.Context()        # reads FP_VIRTUAL_* now: set them before open()
        self._ctx.enumerate()
        devices = list(self._ctx.get_devices())
        if self._driver is not None:
            devices = [d for d in devices if d.get_driver() == self._driver]
        else:
            devices.sort(key=lambda d: not self._can_capture(d))    # image devices first
        if not devices:
            want = f" with driver {self._driver!r}" if self._driver else ""
            res.set(error=init_failed(f"no fingerprint sensor found{want}"))
            return

        def opened(d, result):
            try:
                d.open_finish(result)
            except GLib.Error as exc:
                res.set(error=init_failed(f"{d.get_driver()}: open failed: {exc.message}"))
                return
            res.set(value=d)

        devices[0].open(None, opened)

    def _can_capture(self, dev) -> bool:
        features = getattr(self._FPrint, "DeviceFeature", None)
        if features is not None and hasattr(dev, "has_feature"):
            return bool(dev.has_feature(features.CAPTURE))
        return bool(dev.supports_capture())

    def _connect_signals(self, dev) -> None:
        FPrint = self._FPrint
        seen = {"flags": FPrint.FingerStatusFlags.NONE}

        def finger_status(d, _pspec):
            flags = d.get_finger_status()
            before, seen["flags"] = seen["flags"], flags
            if self._drain.active:        # the idle capture: nobody is asked for a finger
                return
            if flags & FPrint.FingerStatusFlags.PRESENT and not before & FPrint.FingerStatusFlags.PRESENT:
                self._callbacks.prompt(FingerPrompt.FINGER_DETECTED)
            elif flags & FPrint.FingerStatusFlags.NEEDED and not before & FPrint.FingerStatusFlags.NEEDED:
                self._callbacks.prompt(FingerPrompt.PLACE_FINGER)

        def removed(d):
            if d is self._dev:          # a device replaced since may still say goodbye
                self._mark_removed()

        dev.connect("notify::finger-status", finger_status)
        dev.connect("removed", removed)

    @property
    def idle_reads(self) -> int:
        """Fingers read while no capture waited (set aside, never used by a later wait)."""
        return self._drain.reads

    def _mark_removed(self) -> None:
        self._removed = True
        self._callbacks.status(SensorStatus.ABSENT)

    def capture(self, timeout: float | None = None, cancel: threading.Event | None = None,
                situation: Situation = Situation.REGISTRATION, since: float | None = None) -> Capture:
        if self._dev is None and not self._removed:
            raise init_failed("the fingerprint sensor is not open", situation)
        started = time.monotonic()
        deadline = None if timeout is None else started + timeout
        since = started if since is None else since
        with self._capture_lock:
            try:
                return self._fresh_capture(deadline, cancel, situation, since)
            finally:
                if self._dev is not None and not self._removed:
                    self._drain.start(self._dev)

    def _fresh_capture(self, deadline, cancel, situation, since: float) -> Capture:
        """End the idle capture; its read counts only if made since the wait began; else capture anew."""
        if not self._drain.stop(CANCEL_GRACE):
            raise device_failure(situation, "libfprint did not end the idle capture")
        drained = self._drain.take()
        if drained is not None and drained.read_at >= since:
            return drained
        if drained is not None:
            log.info("a finger read before the wait began was discarded")
        if self._removed:
            self._reopen(deadline, cancel, situation)
        while True:
            outcome, value = self._capture_once(deadline, cancel, situation)
            if outcome == "image":
                return value
            self._callbacks.prompt(value)     # a retry: tell the user, capture again

    def _reopen(self, deadline, cancel, situation) -> None:
        """The device was removed: enumerate again and open what is there now, a bounded number of times."""
        pause = cancel if cancel is not None else threading.Event()
        failure = None
        for attempt in range(REOPEN_ATTEMPTS):
            if attempt and pause.wait(REOPEN_PAUSE):
                raise user_cancelled(situation, "cancelled while the sensor was reconnecting")
            if deadline is not None and time.monotonic() >= deadline:
                break
            self._forget_device()
            try:
                self._open_device()
                log.info("fingerprint sensor back after removal: %s", self.device_name)
                return
            except Exception as exc:  # noqa: BLE001 - init failures and loop timeouts alike: try again
                failure = exc
        detail = getattr(failure, "detail", None) or repr(failure)
        raise init_failed(f"the fingerprint sensor was removed and is not back: {detail}", situation)

    def _forget_device(self) -> None:
        """Close the device (best effort); drop it and its context on the loop thread (GObjects are finalised
        there, never on a caller's thread)."""
        self._drain.stop(CANCEL_GRACE)
        self._drain.take()
        if self._dev is not None:
            self._close_device(self._dev)

        def drop(res: Result) -> None:
            self._dev = self._ctx = None
            res.set()
        self._loop.call(drop)

    def _capture_once(self, deadline, cancel, situation):
        if self._removed:
            raise device_failure(situation, "the fingerprint sensor was removed")
        FPrint, GLib, Gio = self._FPrint, self._GLib, self._Gio
        cancellable = Gio.Cancellable.new()
        res = Result()
        dev = self._dev

        def done(d, result):
            try:
                res.set(value=d.capture_finish(result))
            except GLib.Error as exc:
                res.set(error=exc)

        self._loop.call(lambda started: (dev.capture(True, cancellable, done), started.set()))
        why = None
        while not res.wait(POLL):
            if cancel is not None and cancel.is_set():
                why = "cancelled by the user"
            elif deadline is not None and time.monotonic() >= deadline:
                why = "no finger within the timeout"
            if why:
                self._loop.post(cancellable.cancel)   # libfprint ends the capture with CANCELLED
                if not res.wait(CANCEL_GRACE):
                    raise device_failure(situation, "libfprint did not end the cancelled capture")
                break
        err = res.error
        if err is None:
            if why:       # the image arrived just as we cancelled: still a cancellation for the user
                raise user_cancelled(situation, why)
            return "image", self._to_capture(res.value)
        if err.matches(Gio.io_error_quark(), Gio.IOErrorEnum.CANCELLED):
            raise user_cancelled(situation, why or "capture cancelled")
        if err.domain == GLib.quark_to_string(FPrint.device_retry_quark()):
            return "retry", retry_prompt(FPrint, err.code)
        if self._removed or (err.domain == GLib.quark_to_string(FPrint.device_error_quark())
                             and err.code == int(FPrint.DeviceError.REMOVED)):
            self._mark_removed()
        raise device_failure(situation, f"{dev.get_driver()}: {err.domain} {err.code}: {err.message}")

    def _to_capture(self, img) -> Capture:
        w, h = img.get_width(), img.get_height()
        data = img.get_data()
        image = np.frombuffer(bytes(data), dtype=np.uint8)[: w * h].reshape(h, w).copy()
        ppmm = img.get_ppmm()
        dpi = int(round(ppmm * 25.4)) if ppmm and ppmm > 0 else self._dpi
        return Capture(width=w, height=h, dpi=dpi, image=image, device=self.device_name)

    def close(self) -> None:
        """Close the device and stop the loop thread; ``open()`` may follow (e.g. to recover from a failure)."""
        had_device = self._dev is not None
        if self._loop.alive:
            try:
                self._forget_device()
            except Exception as exc:  # noqa: BLE001 - closing is best effort
                log.warning("dropping the fingerprint sensor failed: %r", exc)
            self._loop.stop()
        if had_device and not self._removed:
            self._callbacks.status(SensorStatus.CLOSED)
        self._dev, self._removed = None, False

    def _close_device(self, dev) -> None:
        GLib = self._GLib

        def start(res: Result) -> None:
            def closed(d, result):
                try:
                    d.close_finish(result)
                except GLib.Error as exc:       # e.g. already removed: nothing left to close
                    log.info("closing %s: %s", d.get_driver(), exc.message)
                res.set()
            dev.close(None, closed)

        try:
            self._loop.call(start)
        except Exception as exc:  # noqa: BLE001 - closing is best effort
            log.warning("closing the fingerprint sensor failed: %r", exc)

    def __enter__(self) -> "LibfprintSensor":
        self.open()
        return self

    def __exit__(self, *exc) -> None:
        self.close()

