"""The two real device stacks of the device-fault campaign (issue 10), each with its faults.

``CardSide``: the product's PcscCardReader (default settings, as app_factory builds it) against a private pcscd with
two vpcd readers and scripted virtual cards (tests/pcsc/harness.py, tests/pcsc/virtual_card.py).
``SensorSide``: the product's LibfprintSensor on libfprint's virtual_image device
(tests/fingerprint_device/conftest.py's client). Each fault returns ``(ready_s, read_s)``: seconds from the device
returning to the adapter reporting it ready (None when the adapter never left ready) and to a fresh tap/finger read.
PCSCLITE_CSOCK_NAME is read once per process: build one CardSide per process, before any other PC/SC call.
"""
from __future__ import annotations

import os
import secrets
import shutil
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from dakoku_core.errors import KioskError, Situation
from kiosk.ports import ReaderState
from tests.pcsc.harness import OTHER, PASORI, PrivatePcscd, VirtualReader, free_port_pair, wait_reader_card
from tests.pcsc.virtual_card import felica

BOUND = 10.0          # a device not back within this many seconds is a failed recovery


class NotRecovered(Exception):
    """The kiosk side did not come back within BOUND after the device returned."""


class Events:
    """What an adapter reports on its own threads, time-stamped, with deadline waits."""

    def __init__(self, on_error=None):
        self.items: list[tuple[float, str, object]] = []
        self._cond = threading.Condition()
        self._on_error = on_error

    def add(self, kind: str, value) -> None:
        with self._cond:
            self.items.append((time.monotonic(), kind, value))
            self._cond.notify_all()
        if kind == "error" and self._on_error is not None:
            self._on_error(value)

    def mark(self) -> int:
        with self._cond:
            return len(self.items)

    def wait(self, kind: str, test=lambda value: True, after: int = 0, timeout: float = BOUND):
        """The first (time, value) of ``kind`` at index >= ``after`` passing ``test``; NotRecovered on timeout."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for at, k, value in self.items[after:]:
                    if k == kind and test(value):
                        return at, value
                left = deadline - time.monotonic()
                if left <= 0:
                    raise NotRecovered(f"no {kind} within {timeout} s; last: {self.items[-3:]}")
                self._cond.wait(left)


class CardSide:
    KINDS = ("pcscd_sigkill", "reader_gone_and_back", "card_pulled_mid_read")

    def __init__(self, on_error):
        from kiosk.adapters.pcsc_reader import PcscCardReader

        self.daemon = PrivatePcscd()
        self.daemon.client_env()
        first = free_port_pair()
        second = free_port_pair()
        while second in (first - 1, first, first + 1):
            second = free_port_pair()
        self.other, self.pasori = VirtualReader(OTHER, first), VirtualReader(PASORI, second)
        self.default = [self.other, self.pasori]
        self.daemon.start(self.default)
        self.events = Events(on_error)
        self.reader = PcscCardReader()
        self.reader.start(lambda e: self.events.add("card", e), lambda s: self.events.add("status", s),
                          lambda err: self.events.add("error", err))
        self.events.wait("status", lambda s: s.state == ReaderState.READY)

    @property
    def alive(self) -> bool:
        return self.reader._thread is not None and self.reader._thread.is_alive()

    def close(self) -> None:
        try:
            self.reader.stop()
        finally:
            self.daemon.close()

    def reset(self) -> None:
        """After a failed round: pcscd back with the default readers."""
        self.daemon.stop()
        self.daemon.start(self.default)
        try:
            wait_reader_card(self.pasori.slot_names[0], False, BOUND)
        except AssertionError:
            pass                                       # the next round will say so

    def fault(self, kind: str, rng) -> tuple[float | None, float]:
        return getattr(self, kind)(rng)

    def pcscd_sigkill(self, rng):
        mark = self.events.mark()
        self.daemon.proc.kill()
        self.daemon.proc.wait(5)
        self.daemon.proc = None
        self.events.wait("status", lambda s: s.state != ReaderState.READY, mark)
        time.sleep(rng.uniform(0, 0.5))                # down for a moment
        return self._back(self.default)

    def reader_gone_and_back(self, rng):
        mark = self.events.mark()
        self.daemon.restart(rng.choice([[self.other], []]))   # our reader unplugged (or every reader)
        self.events.wait("status", lambda s: s.state != ReaderState.READY, mark)
        time.sleep(rng.uniform(0, 0.5))
        return self._back(self.default)

    def _back(self, readers) -> tuple[float, float]:
        mark = self.events.mark()
        self.daemon.restart(readers)
        returned = time.monotonic()
        ready_at, _ = self.events.wait("status", lambda s: s.state == ReaderState.READY, mark)
        return ready_at - returned, self._tap(returned)

    def card_pulled_mid_read(self, rng):
        """The card goes away while its APDU is pending: vpcd's socket closes before (drop) or while (mute)
        the card answers. The slot being empty again is the device returning."""
        mark = self.events.mark()
        if rng.random() < 0.5:
            card = felica(secrets.token_hex(8), drop_on_apdu=True)
            self._insert(card)
        else:
            card = felica(secrets.token_hex(8), mute=True)
            self._insert(card)
            deadline = time.monotonic() + BOUND
            while not card.apdus and time.monotonic() < deadline:
                time.sleep(0.005)
            card.remove()
        self.events.wait("error", after=mark)
        card.remove()
        wait_reader_card(self.pasori.slot_names[0], False, BOUND)
        return None, self._tap(time.monotonic())

    def _tap(self, since: float) -> float:
        """A fresh card on the PaSoRi: seconds from ``since`` to its CardEvent."""
        card_id = secrets.token_hex(8).upper()
        card = felica(card_id)
        mark = self.events.mark()
        self._insert(card)
        try:
            read_at, _ = self.events.wait("card", lambda e: e.card_id == card_id, mark)
        finally:
            card.remove()
        wait_reader_card(self.pasori.slot_names[0], False, BOUND)
        return read_at - since

    def _insert(self, card) -> None:
        """Insert, waiting for vpcd to listen (pcscd loads its driver a moment after it starts)."""
        deadline = time.monotonic() + BOUND
        while True:
            try:
                return card.insert(self.pasori.port)
            except OSError:
                if time.monotonic() > deadline:
                    raise NotRecovered("the PaSoRi's vpcd port never accepted the card")
                time.sleep(0.01)


class SensorSide:
    KINDS = ("sensor_unplugged_mid_enrolment",)

    def __init__(self, image):
        from kiosk.fingerprint.libfprint_sensor import LibfprintSensor
        from tests.fingerprint_device.conftest import VIRTUAL_ENV_VARS

        for name in VIRTUAL_ENV_VARS:
            os.environ.pop(name, None)
        self.dir = tempfile.mkdtemp(prefix="dk-fpc-", dir="/tmp")
        self.path = os.path.join(self.dir, "image.sock")
        os.environ["FP_VIRTUAL_IMAGE"] = self.path
        self.image = image
        self.events = Events()
        self.pool = ThreadPoolExecutor(max_workers=1)
        self.sensor = LibfprintSensor(driver="virtual_image", on_prompt=lambda p: self.events.add("prompt", p),
                                      on_status=lambda s: self.events.add("status", s))
        self.sensor.open()
        self.client = self._connect()

    def _connect(self):
        from tests.fingerprint_device.conftest import VirtualImageClient
        return VirtualImageClient(self.path, timeout=BOUND)

    alive = True

    def close(self) -> None:
        self.client.close()
        self.sensor.close()
        self.pool.shutdown(wait=True)
        os.environ.pop("FP_VIRTUAL_IMAGE", None)
        shutil.rmtree(self.dir, ignore_errors=True)

    def reset(self) -> None:
        os.environ["FP_VIRTUAL_IMAGE"] = self.path

    def fault(self, kind: str, rng) -> tuple[float, float]:
        return self.sensor_unplugged_mid_enrolment(rng)

    def sensor_unplugged_mid_enrolment(self, rng):
        """Returns the errors met on the way as well, through ``self.errors`` (the caller counts them)."""
        from kiosk.fingerprint.prompts import FingerPrompt, SensorStatus

        self.errors: list[KioskError] = []
        mark = self.events.mark()
        future = self.pool.submit(self.sensor.capture, BOUND, None, Situation.REGISTRATION)
        self.events.wait("prompt", lambda p: p == FingerPrompt.PLACE_FINGER, mark)
        self.client.disappear()                          # the USB cable is pulled during the capture
        self._expect_error(future)
        self.events.wait("status", lambda s: s == SensorStatus.ABSENT, mark)
        self.client.close()
        del os.environ["FP_VIRTUAL_IMAGE"]               # nothing to enumerate while unplugged
        if rng.random() < 0.5:                           # someone tries to enrol meanwhile
            self._expect_error(self.pool.submit(self.sensor.capture, BOUND, None, Situation.REGISTRATION))
        time.sleep(rng.uniform(0, 0.3))
        mark = self.events.mark()
        os.environ["FP_VIRTUAL_IMAGE"] = self.path       # plugged back
        returned = time.monotonic()
        future = self.pool.submit(self.sensor.capture, BOUND, None, Situation.REGISTRATION)
        ready_at, _ = self.events.wait("prompt", lambda p: p == FingerPrompt.PLACE_FINGER, mark)
        self.client = self._connect()
        self.client.image(self.image)
        future.result(BOUND)
        return ready_at - returned, time.monotonic() - returned

    def _expect_error(self, future) -> None:
        try:
            future.result(BOUND + 5)
        except KioskError as err:
            self.errors.append(err)
            return
        raise AssertionError("a capture on an unplugged sensor returned an image")
