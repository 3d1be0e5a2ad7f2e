"""libfprint's *own* enrol and identify on its ``virtual_image`` test device, fed with our synthetic images.

For the speed benchmark (libfprint's bozorth3 identify against ours) and the print-format tests; the kiosk itself
only captures with libfprint (:mod:`kiosk.fingerprint.libfprint_sensor`). ``FP_VIRTUAL_IMAGE`` must name the
socket before construction. Calls block the caller; libfprint runs on the adapter's loop thread. An image is
sent only when libfprint newly asks for a finger (an earlier one would be dropped or hit the wrong state).
"""
from __future__ import annotations

import socket
import struct
import threading
import time
from typing import Sequence

import numpy as np

from kiosk.fingerprint.libfprint_loop import GLibLoopThread, Result, load_fprint

ENROL_TIMEOUT = 30.0


class VirtualImageLibfprint:
    def __init__(self, socket_path: str) -> None:
        self._FPrint, self._GLib, _gio = load_fprint()
        self._loop = GLibLoopThread(self._GLib)
        self._asks = 0                       # how often libfprint has asked for a finger
        self._answered = 0
        self._cond = threading.Condition()
        try:
            self.device = self._loop.call(self._open)
            self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self._sock.connect(socket_path)
        except BaseException:
            self._loop.stop()
            raise

    def _open(self, res: Result) -> None:
        FPrint = self._FPrint
        ctx = FPrint.Context()
        ctx.enumerate()
        devices = [d for d in ctx.get_devices() if d.get_driver() == "virtual_image"]
        if not devices:
            raise RuntimeError("no virtual_image device: set FP_VIRTUAL_IMAGE first")
        dev = devices[0]
        self._ctx, before = ctx, {"flags": FPrint.FingerStatusFlags.NONE}

        def finger_status(d, _pspec):
            flags, was = d.get_finger_status(), before["flags"]
            before["flags"] = flags
            if flags & FPrint.FingerStatusFlags.NEEDED and not was & FPrint.FingerStatusFlags.NEEDED:
                with self._cond:
                    self._asks += 1
                    self._cond.notify_all()

        dev.connect("notify::finger-status", finger_status)
        dev.open(None, lambda d, r: res.set(value=(d.open_finish(r), d)[1]))

    def _place(self, image: np.ndarray, timeout: float = 10.0) -> float:
        """Wait for libfprint to ask for a finger, send ``image``; returns when it was sent (perf_counter)."""
        with self._cond:
            if not self._cond.wait_for(lambda: self._asks > self._answered, timeout):
                raise TimeoutError("libfprint did not ask for a finger")
            self._answered = self._asks
        h, w = image.shape
        self._sock.sendall(struct.pack("ii", w, h) + np.ascontiguousarray(image, np.uint8).tobytes())
        return time.perf_counter()

    def _finish(self, method: str, res: Result):
        def done(d, result):
            try:
                res.set(value=(getattr(d, method)(result), time.perf_counter()))
            except self._GLib.Error as exc:
                res.set(error=exc)
        return done

    def enroll(self, images: Sequence[np.ndarray]):
        """libfprint's enrolment (image devices: 5 stages, one image each) → an ``FpPrint``."""
        res = Result()
        self._loop.call(lambda started: (self.device.enroll(self._FPrint.Print.new(self.device),
                                                            callback=self._finish("enroll_finish", res)),
                                         started.set()))
        for image in images:
            if res.wait(0):
                break
            self._place(image)
        if not res.wait(ENROL_TIMEOUT):
            raise TimeoutError("libfprint enrolment did not finish")
        if res.error is not None:
            raise res.error
        return res.value[0]

    def identify(self, gallery: list, image: np.ndarray, timeout: float = 600.0):
        """libfprint's identify of ``image`` in ``gallery`` → (the first print scoring >= its threshold or None,
        seconds from the image reaching libfprint to the answer)."""
        res = Result()
        self._loop.call(lambda started: (self.device.identify(gallery, callback=self._finish("identify_finish",
                                                                                              res)),
                                         started.set()))
        sent = self._place(image)
        if not res.wait(timeout):
            raise TimeoutError("libfprint identify did not finish")
        if res.error is not None:
            raise res.error
        (match, _scanned), finished = res.value
        return match, finished - sent

    def serialize(self, print_) -> bytes:
        return bytes(self._loop.call(lambda res: res.set(value=print_.serialize())))

    def deserialize(self, data: Sequence[bytes]) -> list:
        """Prints from serialised data, made on the loop thread."""
        FPrint = self._FPrint
        return self._loop.call(lambda res: res.set(value=[FPrint.Print.deserialize(d) for d in data]))

    def close(self) -> None:
        try:
            self._sock.close()
            self._loop.call(lambda res: self.device.close(None, lambda d, r: res.set()))
        finally:
            self._loop.call(lambda res: res.set(value=setattr(self, "_ctx", None)))
            self._loop.stop()

    def __enter__(self) -> "VirtualImageLibfprint":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
