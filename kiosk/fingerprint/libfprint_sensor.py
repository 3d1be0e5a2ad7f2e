"""The libfprint adapter of the sensor port, through PyGObject (``gi.repository.FPrint``, libfprint 2).

libfprint is asynchronous on a GLib main context. This adapter owns one thread that runs GLib's *global default*
main context and does every libfprint call on it; callers block on a result with a deadline. It has to be the
global default: ``fp_context_enumerate`` iterates ``g_main_context_iteration(NULL)`` itself, so on a private
context it never returns. Hence one ``LibfprintSensor`` loop per process at a time (nothing else in the kiosk uses
GLib; Kivy runs on SDL2). Image devices only: ``FpDevice.capture`` gives
the image to our own extractor; libfprint's enrol / verify / identify (bozorth3, first match >= 40, no scores)
are not used. A device that cannot capture images (match-on-chip) is refused at ``open`` with
``device_init_failed``.

Note: libfprint's image devices run their own NBIS minutiae detection on every captured image and turn an
image without minutiae into ``DeviceRetry.GENERAL`` ("Minutiae detection failed, please retry"); such images never
reach us and surface as the ``RETRY_GENERAL`` prompt.
"""
from __future__ import annotations

import logging
import threading
import time
from typing import Any, Callable

import numpy as np

from kiosk.errors import Situation
from kiosk.fingerprint.sensor import (DEFAULT_DPI, Callbacks, Capture, FingerPrompt, PromptCallback,
                                      SensorStatus, StatusCallback, device_failure, init_failed, user_cancelled)

log = logging.getLogger(__name__)

CALL_TIMEOUT = 10.0          # open / close / enumerate on the loop thread
CANCEL_GRACE = 3.0           # after cancelling a capture, how long we wait for libfprint to finish it
POLL = 0.02                  # how often a blocked caller looks at its cancel event and deadline
_LOOP_OWNER = threading.Lock()   # held while a sensor's thread runs the global default main context


def load_fprint():
    """Import PyGObject and the FPrint 2.0 typelib, or raise ``device_init_failed``."""
    try:
        import gi
        gi.require_version("FPrint", "2.0")
        from gi.repository import FPrint, Gio, GLib
    except (ImportError, ValueError) as exc:
        raise init_failed(f"libfprint via PyGObject is not available: {exc!r} (needs pip PyGObject and apt "
                          "gir1.2-fprint-2.0 libfprint-2-2)") from exc
    return FPrint, GLib, Gio


class _Result:
    """A one-shot result handed from the loop thread to a blocked caller."""

    def __init__(self) -> None:
        self._done = threading.Event()
        self.value: Any = None
        self.error: BaseException | None = None

    def set(self, value: Any = None, error: BaseException | None = None) -> None:
        self.value, self.error = value, error
        self._done.set()

    def wait(self, timeout: float | None) -> bool:
        return self._done.wait(timeout)


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
        self._removed = False
        self._capture_lock = threading.Lock()
        self._current: _Result | None = None      # the capture in flight (loop thread writes it)
        if not _LOOP_OWNER.acquire(blocking=False):
            raise init_failed("another LibfprintSensor is running; close it first")
        self._main = self._GLib.MainContext.default()
        self._loop = self._GLib.MainLoop.new(self._main, False)
        started = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(started,), name="libfprint-loop", daemon=True)
        self._thread.start()
        if not started.wait(CALL_TIMEOUT) or not self._thread.is_alive():
            raise init_failed("the libfprint loop thread did not start")
        self.device_name = ""

    # --- the loop thread ------------------------------------------------------------------------------------

    def _run(self, started: threading.Event) -> None:
        try:
            idle = self._GLib.idle_source_new()
            idle.set_callback(lambda *_: (started.set(), False)[1])
            idle.attach(self._main)
            self._loop.run()
        finally:
            started.set()
            _LOOP_OWNER.release()

    def _call(self, fn: Callable[[_Result], None], timeout: float = CALL_TIMEOUT) -> Any:
        """Run ``fn(result)`` on the loop thread; it (or a callback it starts) must ``result.set(...)``."""
        if not self._thread.is_alive():
            raise init_failed("the libfprint loop is not running")
        res = _Result()

        def step(*_):
            try:
                fn(res)
            except BaseException as exc:  # noqa: BLE001 - handed to the caller
                res.set(error=exc)
            return False

        source = self._GLib.idle_source_new()
        source.set_callback(step)
        source.attach(self._main)
        if not res.wait(timeout):
            raise init_failed(f"libfprint did not answer within {timeout:g} s")
        if res.error is not None:
            raise res.error
        return res.value

    def _post(self, fn: Callable[[], Any]) -> None:
        """Run ``fn()`` on the loop thread without waiting (libfprint is not thread-safe)."""
        source = self._GLib.idle_source_new()
        source.set_callback(lambda *_: (fn(), False)[1])
        source.attach(self._main)

    # --- the port ---------------------------------------------------------------------------------------------

    def set_callbacks(self, prompt: PromptCallback | None = None, status: StatusCallback | None = None) -> None:
        self._callbacks.set(prompt, status)

    def open(self) -> None:
        if self._dev is not None:
            return
        GLib = self._GLib

        def find(res: _Result) -> None:
            if self._ctx is None:
                self._ctx = self._FPrint.Context()    # reads FP_VIRTUAL_* now: set them before open()
            self._ctx.enumerate()
            devices = list(self._ctx.get_devices())
            if self._driver is not None:
                devices = [d for d in devices if d.get_driver() == self._driver]
            if not devices:
                want = f" with driver {self._driver!r}" if self._driver else ""
                res.set(error=init_failed(f"no fingerprint sensor found{want}"))
                return
            dev = devices[0]

            def opened(d, result):
                try:
                    d.open_finish(result)
                except GLib.Error as exc:
                    res.set(error=init_failed(f"{d.get_driver()}: open failed: {exc.message}"))
                    return
                res.set(value=d)

            dev.open(None, opened)

        dev = self._call(find)
        if not self._can_capture(dev):
            self._close_device(dev)
            raise init_failed(f"{dev.get_driver()} ({dev.get_name()}) cannot deliver images (match-on-chip); "
                              "the kiosk needs an image sensor")
        self._dev, self._removed = dev, False
        self.device_name = f"{dev.get_driver()}: {dev.get_name()}"
        self._call(lambda res: res.set(value=self._connect_signals(dev)))
        self._callbacks.status(SensorStatus.PRESENT)

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
            if flags & FPrint.FingerStatusFlags.PRESENT and not before & FPrint.FingerStatusFlags.PRESENT:
                self._callbacks.prompt(FingerPrompt.FINGER_DETECTED)
            elif flags & FPrint.FingerStatusFlags.NEEDED and not before & FPrint.FingerStatusFlags.NEEDED:
                self._callbacks.prompt(FingerPrompt.PLACE_FINGER)

        def removed(d):
            self._removed = True
            self._callbacks.status(SensorStatus.ABSENT)

        dev.connect("notify::finger-status", finger_status)
        dev.connect("removed", removed)

    def capture(self, timeout: float | None = None, cancel: threading.Event | None = None,
                situation: Situation = Situation.REGISTRATION) -> Capture:
        if self._dev is None:
            raise init_failed("the fingerprint sensor is not open", situation)
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._capture_lock:
            while True:
                outcome, value = self._capture_once(deadline, cancel, situation)
                if outcome == "image":
                    return value
                self._callbacks.prompt(value)     # a retry: tell the user, capture again

    def _capture_once(self, deadline, cancel, situation):
        if self._removed:
            raise init_failed("the fingerprint sensor was removed", situation)
        FPrint, GLib, Gio = self._FPrint, self._GLib, self._Gio
        cancellable = Gio.Cancellable.new()
        res = _Result()
        dev = self._dev

        def done(d, result):
            try:
                res.set(value=d.capture_finish(result))
            except GLib.Error as exc:
                res.set(error=exc)

        self._call(lambda started: (dev.capture(True, cancellable, done), started.set()))
        why = None
        while not res.wait(POLL):
            if cancel is not None and cancel.is_set():
                why = "cancelled by the user"
            elif deadline is not None and time.monotonic() >= deadline:
                why = "no finger within the timeout"
            if why:
                self._post(cancellable.cancel)   # on the loop thread; libfprint ends the capture with CANCELLED
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
            return "retry", _retry_prompt(FPrint, err.code)
        if self._removed or (err.domain == GLib.quark_to_string(FPrint.device_error_quark())
                             and err.code == int(FPrint.DeviceError.REMOVED)):
            self._removed = True
            self._callbacks.status(SensorStatus.ABSENT)
        raise device_failure(situation, f"{dev.get_driver()}: {err.domain} {err.code}: {err.message}")

    def _to_capture(self, img) -> Capture:
        w, h = img.get_width(), img.get_height()
        data = img.get_data()
        image = np.frombuffer(bytes(data), dtype=np.uint8)[: w * h].reshape(h, w).copy()
        ppmm = img.get_ppmm()
        dpi = int(round(ppmm * 25.4)) if ppmm and ppmm > 0 else self._dpi
        return Capture(width=w, height=h, dpi=dpi, image=image, device=self.device_name)

    def close(self) -> None:
        dev, self._dev = self._dev, None
        if dev is not None:
            self._close_device(dev)
            if not self._removed:
                self._callbacks.status(SensorStatus.CLOSED)
        if self._thread.is_alive():
            self._call_quit()

    def _close_device(self, dev) -> None:
        GLib = self._GLib

        def start(res: _Result) -> None:
            def closed(d, result):
                try:
                    d.close_finish(result)
                except GLib.Error as exc:       # e.g. already removed: nothing left to close
                    log.info("closing %s: %s", d.get_driver(), exc.message)
                res.set()
            dev.close(None, closed)

        try:
            self._call(start)
        except Exception as exc:  # noqa: BLE001 - closing is best effort
            log.warning("closing the fingerprint sensor failed: %r", exc)

    def _call_quit(self) -> None:
        source = self._GLib.idle_source_new()
        source.set_callback(lambda *_: (self._loop.quit(), False)[1])
        source.attach(self._main)
        self._thread.join(CALL_TIMEOUT)

    def __enter__(self) -> "LibfprintSensor":
        self.open()
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _retry_prompt(FPrint, code: int) -> FingerPrompt:
    retry = FPrint.DeviceRetry
    return {
        int(retry.TOO_SHORT): FingerPrompt.RETRY_TOO_SHORT,
        int(retry.CENTER_FINGER): FingerPrompt.RETRY_CENTER_FINGER,
        int(retry.REMOVE_FINGER): FingerPrompt.RETRY_REMOVE_FINGER,
    }.get(int(code), FingerPrompt.RETRY_GENERAL)
