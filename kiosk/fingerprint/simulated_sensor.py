"""A simulated sensor for the demo: synthetic impressions (``dakoku_core.fingerprint.synth``) of chosen fingers.

The demo panel calls ``place_finger(n)`` ("place synthetic finger N"); a ``capture`` waiting on the sensor then
returns a fresh impression of that finger (a new impression index on every placement, so repeated placements
differ like real ones). ``retry(prompt)``, ``fail()`` and ``unplug()`` / ``plug()`` let the panel show the prompt
and error paths.

Like a real sensor, it reads a finger only while a capture waits for one: a placement is stamped with the moment it
was made, and a capture returns only a placement made at or after its ``since`` (by default, its own start). One made
before (on standby, in 設定, before an enrolment began) is discarded when the capture starts, never kept for the next
person. Finger ``n`` is the master of seed ``DEMO_SEED_BASE + n``: a range of its own, apart from the
TUNING, REPORTING and TEST seeds.
"""
from __future__ import annotations

import logging
import threading
import time
from collections import deque
from functools import lru_cache

from dakoku_core.errors import Situation
from kiosk.fingerprint.prompts import FingerPrompt, SensorStatus
from kiosk.fingerprint.sensor import (DEFAULT_DPI, Callbacks, Capture, PromptCallback, StatusCallback, device_failure,
                                      init_failed, user_cancelled)
from dakoku_core.fingerprint.synth import ImpressionParams, make_impression, make_master

log = logging.getLogger(__name__)
DEMO_SEED_BASE = 700_000
POLL = 0.02


@lru_cache(maxsize=32)
def _master(seed: int):
    return make_master(seed)


class SimulatedSensor:
    name = "simulated"

    def __init__(self, *, params: ImpressionParams = ImpressionParams(), seed_base: int = DEMO_SEED_BASE,
                 on_prompt: PromptCallback | None = None, on_status: StatusCallback | None = None,
                 present: bool = True) -> None:
        self._params, self._seed_base = params, seed_base
        self._callbacks = Callbacks(on_prompt, on_status)
        self._present, self._open = present, False
        self._events: deque[tuple[str, object, float]] = deque()   # (kind, value, when it was posted)
        self._cond = threading.Condition()
        self.captures_started = 0           # for tests and the demo: how many captures have begun
        self._next_impression: dict[int, int] = {}
        self.device_name = "simulated: synthetic fingers"

    # --- the demo panel's API (any thread) -------------------------------------------------------------------

    def seed_of(self, finger: int) -> int:
        return self._seed_base + int(finger)

    def place_finger(self, finger: int, impression: int | None = None) -> None:
        """Put synthetic finger ``finger`` on the sensor (``impression``: a fixed impression index)."""
        if finger < 0:
            raise ValueError("finger numbers start at 0")
        if impression is None:
            impression = self._next_impression.get(finger, 0)
            self._next_impression[finger] = impression + 1
        self._post("finger", (int(finger), int(impression)))

    def retry(self, prompt: FingerPrompt = FingerPrompt.RETRY_CENTER_FINGER) -> None:
        """The next placement is rejected by the "device" with this retry prompt."""
        self._post("retry", FingerPrompt(prompt))

    def fail(self, detail: str = "simulated device failure") -> None:
        self._post("fail", detail)

    def unplug(self) -> None:
        with self._cond:
            self._present = False
            self._events.append(("unplug", None, time.monotonic()))
            self._cond.notify_all()
        self._callbacks.status(SensorStatus.ABSENT)

    def plug(self) -> None:
        """Reconnect; like a real device, it must be opened again."""
        with self._cond:
            self._present, self._open = True, False

    def warm_up(self, *fingers: int) -> None:
        """Grow the masters now (about 0.3–1 s each) so the first placement answers at once."""
        for finger in fingers:
            _master(self.seed_of(finger))

    def impression(self, finger: int, index: int):
        """The image impression ``index`` of synthetic finger ``finger`` would give (e.g. to enrol demo fingers
        without going through the sensor); placements count their impressions from 0."""
        seed = self.seed_of(finger)
        return make_impression(_master(seed), seed, index, self._params)

    def _post(self, kind: str, value) -> None:
        with self._cond:
            self._events.append((kind, value, time.monotonic()))
            self._cond.notify_all()

    def wait_for_capture(self, started: int, timeout: float = 10.0) -> bool:
        """Block until capture number ``started`` (counting from 1) has begun: a finger placed after that is
        read by it. False on timeout."""
        with self._cond:
            return self._cond.wait_for(lambda: self.captures_started >= started, timeout)

    def place_when_asked(self, *fingers: int, timeout: float = 10.0) -> threading.Thread:
        """Like a person who waits for the prompt: on another thread, place each finger once the next capture has
        begun (one finger per capture). For scripts and tests that call ``capture`` themselves."""
        first = self.captures_started + 1

        def run() -> None:
            for n, finger in enumerate(fingers):
                if not self.wait_for_capture(first + n, timeout):
                    return
                self.place_finger(finger)

        thread = threading.Thread(target=run, name="simulated-finger", daemon=True)
        thread.start()
        return thread

    def _discard_stale(self, since: float) -> None:
        """Under the lock: drop the placements made before ``since`` (nobody was waiting for them)."""
        stale = [e for e in self._events if e[0] == "finger" and e[2] < since]
        for event in stale:
            self._events.remove(event)
        if stale:
            log.info("simulated sensor: %d finger(s) placed before the wait discarded", len(stale))

    # --- the port --------------------------------------------------------------------------------------------

    def set_callbacks(self, prompt: PromptCallback | None = None, status: StatusCallback | None = None) -> None:
        self._callbacks.set(prompt, status)

    def open(self) -> None:
        with self._cond:
            if not self._present:
                raise init_failed("the simulated sensor is unplugged")
            self._open = True
            self._events.clear()
        self._callbacks.status(SensorStatus.PRESENT)

    def close(self) -> None:
        with self._cond:
            was_open, self._open = self._open, False
            self._cond.notify_all()
        if was_open:
            self._callbacks.status(SensorStatus.CLOSED)

    def capture(self, timeout: float | None = None, cancel: threading.Event | None = None,
                situation: Situation = Situation.REGISTRATION, since: float | None = None) -> Capture:
        started = time.monotonic()
        deadline = None if timeout is None else started + timeout
        since = started if since is None else since
        with self._cond:
            if not (self._open and self._present):
                raise init_failed("the simulated sensor is not open", situation)
            self._discard_stale(since)
            self.captures_started += 1
            self._cond.notify_all()
        self._callbacks.prompt(FingerPrompt.PLACE_FINGER)
        pending_retry: FingerPrompt | None = None
        while True:
            with self._cond:
                while not self._events:
                    if cancel is not None and cancel.is_set():
                        raise user_cancelled(situation, "cancelled by the user")
                    if deadline is not None and time.monotonic() >= deadline:
                        raise user_cancelled(situation, "no finger within the timeout")
                    if not self._open:
                        raise init_failed("the simulated sensor was closed", situation)
                    self._cond.wait(POLL)
                kind, value, placed_at = self._events.popleft()
            if kind == "unplug":
                raise device_failure(situation, "the simulated sensor was unplugged")
            if kind == "fail":
                raise device_failure(situation, str(value))
            if kind == "retry":
                pending_retry = value
                continue
            finger, impression = value
            self._callbacks.prompt(FingerPrompt.FINGER_DETECTED)
            if pending_retry is not None:
                self._callbacks.prompt(pending_retry)
                pending_retry = None
                self._callbacks.prompt(FingerPrompt.PLACE_FINGER)
                continue
            seed = self.seed_of(finger)
            image = make_impression(_master(seed), seed, impression, self._params)
            h, w = image.shape
            return Capture(width=w, height=h, dpi=DEFAULT_DPI, image=image, device=self.device_name,
                           read_at=placed_at)

    def __enter__(self) -> "SimulatedSensor":
        self.open()
        return self

    def __exit__(self, *exc) -> None:
        self.close()
