"""libfprint virtual devices for the sensor adapter tests.

``virtual_image`` (FP_VIRTUAL_IMAGE): libfprint listens on a Unix socket when the device opens; the test connects
as the client and sends ``struct.pack('ii', w, h)`` + w*h grey bytes (one finger placement), or control messages
with a negative first value. ``virtual_device`` (FP_VIRTUAL_DEVICE) takes text commands.
Tests needing libfprint skip, with the reason, only when PyGObject or the FPrint typelib is missing.
"""
from __future__ import annotations

import os
import shutil
import socket
import struct
import tempfile
import threading
import time

import numpy as np
import pytest

VIRTUAL_ENV_VARS = ("FP_VIRTUAL_IMAGE", "FP_VIRTUAL_DEVICE", "FP_VIRTUAL_DEVICE_STORAGE", "FP_DEVICE_EMULATION")


def fprint_missing() -> str | None:
    try:
        import gi
        gi.require_version("FPrint", "2.0")
        from gi.repository import FPrint  # noqa: F401
    except (ImportError, ValueError) as exc:
        return f"libfprint through PyGObject is not installed ({exc}); needs pip PyGObject>=3.42,<3.51 and apt " \
               "gir1.2-fprint-2.0 libfprint-2-2"
    return None


@pytest.fixture
def fprint():
    reason = fprint_missing()
    if reason:
        pytest.skip(reason)
    from gi.repository import FPrint
    return FPrint


@pytest.fixture
def short_dir():
    """A short directory for Unix sockets (sun_path holds 108 bytes; pytest's tmp_path can be longer)."""
    path = tempfile.mkdtemp(prefix="dk-fp-", dir="/tmp")
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def clean_env(monkeypatch):
    for name in VIRTUAL_ENV_VARS:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


class Recorder:
    """Collects prompts and statuses (they arrive on the sensor's loop thread) and lets a test wait for them."""

    def __init__(self) -> None:
        self.prompts: list = []
        self.statuses: list = []
        self._cond = threading.Condition()

    def prompt(self, p) -> None:
        with self._cond:
            self.prompts.append(p)
            self._cond.notify_all()

    def status(self, s) -> None:
        with self._cond:
            self.statuses.append(s)
            self._cond.notify_all()

    def wait_prompt(self, prompt, count: int = 1, timeout: float = 5.0) -> None:
        deadline = time.monotonic() + timeout
        with self._cond:
            while self.prompts.count(prompt) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"no {prompt!r} (#{count}) within {timeout} s; prompts: {self.prompts}")
                self._cond.wait(left)

    def wait_status(self, status, count: int = 1, timeout: float = 5.0) -> None:
        deadline = time.monotonic() + timeout
        with self._cond:
            while self.statuses.count(status) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"no {status!r} within {timeout} s; statuses: {self.statuses}")
                self._cond.wait(left)


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


class VirtualImageClient:
    """The test side of libfprint's virtual_image socket."""

    def __init__(self, path: str, timeout: float = 5.0):
        self.path = path
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                self.sock.connect(path)
                return
            except OSError:
                self.sock.close()
                if time.monotonic() >= deadline:
                    raise
                time.sleep(0.01)

    def image(self, image: np.ndarray) -> None:
        h, w = image.shape
        self.sock.sendall(struct.pack("ii", w, h) + np.ascontiguousarray(image, dtype=np.uint8).tobytes())

    def retry(self, code: int) -> None:
        self.sock.sendall(struct.pack("ii", -1, int(code)))

    def error(self, code: int) -> None:
        self.sock.sendall(struct.pack("ii", -2, int(code)))

    def disappear(self) -> None:
        self.sock.sendall(struct.pack("ii", -5, 0))

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def virtual_image(fprint, clean_env, short_dir, recorder):
    """An opened LibfprintSensor on virtual_image and the connected client: (sensor, client, recorder)."""
    from kiosk.fingerprint.libfprint_sensor import LibfprintSensor

    path = os.path.join(short_dir, "image.sock")
    clean_env.setenv("FP_VIRTUAL_IMAGE", path)
    sensor = LibfprintSensor(driver="virtual_image", on_prompt=recorder.prompt, on_status=recorder.status)
    sensor.open()
    client = VirtualImageClient(path)
    yield sensor, client, recorder
    client.close()
    sensor.close()
