"""The fingerprint SENSOR port: open a device, capture one impression, report prompts and presence.

A sensor delivers what it captured, nothing more: an 8-bit grey image for our own extractor (image devices), or
minutiae when a device only gives those. Matching is never the sensor's business (``dakoku_core.fingerprint.identify``).

Callbacks run on the sensor's own thread (libfprint's GLib loop, or the caller's thread for the simulator); the UI
moves them onto the Kivy thread through its bridge. Prompts are not errors: "place your finger", "swipe too short",
"centre your finger" are shown and the capture goes on.

Errors are :class:`~dakoku_core.errors.KioskError` with catalogue keys, decided by the situation the capture serves:

=========================================  ==============================  =====================================
what happened                              enrolment (registration,        anything else (punch, browser)
                                           help registration)
=========================================  ==============================  =====================================
no sensor, backend missing, open failed    ``device_init_failed``          ``device_init_failed``
device failure or unplugged while          ``enrollment_cancelled`` B      ``device_init_failed``
capturing
cancelled by the user, or no finger        ``enrollment_cancelled`` A      ``auth_failed`` A
within the timeout
=========================================  ==============================  =====================================

An unusable capture (too few minutiae, low quality) is not an error here: the caller extracts and decides
(``enroll.assess_capture`` / ``enrollment_failed``).
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Callable, Optional, Protocol

import numpy as np

from dakoku_core.errors import KioskError, Situation
from dakoku_core.fingerprint.template import FingerprintTemplate
from kiosk.fingerprint.prompts import FingerPrompt, SensorStatus

DEFAULT_DPI = 500
ENROLMENT_SITUATIONS = frozenset({Situation.REGISTRATION, Situation.HELP_REGISTRATION})


PromptCallback = Callable[[FingerPrompt], None]
StatusCallback = Callable[[SensorStatus], None]


@dataclass(frozen=True, eq=False)
class Capture:
    """One impression. ``image`` is (rows, cols) uint8, dark ridges on light background, or ``None`` when the
    device only delivers ``minutiae``. ``read_at`` is when the finger was read (``time.monotonic``): only a capture
    read while a screen waits counts (:mod:`kiosk.services.credential_window`). Never stored or sent: the caller
    extracts and drops it."""

    width: int
    height: int
    dpi: int
    image: Optional[np.ndarray] = None
    minutiae: Optional[FingerprintTemplate] = None
    device: str = ""
    read_at: float = field(default_factory=time.monotonic)   # monotonic: when the sensor read this finger

    def __post_init__(self) -> None:
        if self.image is None and self.minutiae is None:
            raise ValueError("a capture holds an image or minutiae")
        if self.image is not None:
            if self.image.dtype != np.uint8 or self.image.shape != (self.height, self.width):
                raise ValueError("capture image must be uint8 of shape (height, width)")

    def template(self, extractor) -> FingerprintTemplate:
        """Minutiae of this capture: the device's own, else ``extractor.extract(image, dpi)``."""
        if self.minutiae is not None:
            return self.minutiae
        return extractor.extract(self.image, self.dpi)


class FingerprintSensor(Protocol):
    """A fingerprint capture device.

    - ``open()`` finds and opens the device; no device, a missing backend or a failed open raise
      ``device_init_failed``. Reports ``SensorStatus.PRESENT`` to the status callback.
    - ``capture(timeout, cancel, situation, since)`` blocks the calling thread (never the UI thread) until one
      impression arrives, ``timeout`` seconds pass (``None``: no limit), or ``cancel`` (a ``threading.Event``) is
      set. Retry conditions become prompts and the capture continues. Errors: see the module table.
      Only a finger read at or after ``since`` (``time.monotonic``; ``None``: the moment the capture starts) is
      returned: a press made before the wait began is discarded, never kept for the next capture.
    - ``close()`` is idempotent.
    - ``set_callbacks(prompt=..., status=...)`` replaces the callbacks (``None`` keeps the current one).
    """

    name: str

    def open(self) -> None: ...

    def close(self) -> None: ...

    def capture(self, timeout: float | None = None, cancel: threading.Event | None = None,
                situation: Situation = Situation.REGISTRATION, since: float | None = None) -> Capture: ...

    def set_callbacks(self, prompt: PromptCallback | None = None, status: StatusCallback | None = None) -> None: ...


# --- the error mapping both adapters use -------------------------------------------------------------------

def is_enrolment(situation: Situation | None) -> bool:
    return situation in ENROLMENT_SITUATIONS


def init_failed(detail: str, situation: Situation | None = Situation.STARTUP) -> KioskError:
    return KioskError("device_init_failed", situation=situation, detail=detail)


def device_failure(situation: Situation | None, detail: str) -> KioskError:
    """The device failed (or vanished) while capturing."""
    if is_enrolment(situation):
        return KioskError("enrollment_cancelled", situation=situation, cause_letter="B", detail=detail)
    return KioskError("device_init_failed", situation=situation, detail=detail)


def user_cancelled(situation: Situation | None, detail: str) -> KioskError:
    """The user cancelled, or no finger came within the timeout."""
    if is_enrolment(situation):
        return KioskError("enrollment_cancelled", situation=situation, cause_letter="A", detail=detail)
    return KioskError("auth_failed", situation=situation, cause_letter="A", detail=detail)


class Callbacks:
    """Holds the two callbacks; a raising callback is logged, never allowed to break the device thread."""

    def __init__(self, prompt: PromptCallback | None = None, status: StatusCallback | None = None):
        self.prompt_cb, self.status_cb = prompt, status
        self._last_status: SensorStatus | None = None

    def set(self, prompt: PromptCallback | None = None, status: StatusCallback | None = None) -> None:
        if prompt is not None:
            self.prompt_cb = prompt
        if status is not None:
            self.status_cb = status

    def prompt(self, prompt: FingerPrompt) -> None:
        _safe(self.prompt_cb, prompt)

    def status(self, status: SensorStatus) -> None:
        if status != self._last_status:
            self._last_status = status
            _safe(self.status_cb, status)


def _safe(cb, arg) -> None:
    if cb is None:
        return
    try:
        cb(arg)
    except Exception:  # noqa: BLE001 - a UI callback must not kill the device thread
        import logging
        logging.getLogger(__name__).exception("fingerprint sensor callback failed")
