"""What a capture tells the screen (prompts) and the device's presence: the part of the sensor port the UI needs
at start, kept apart from :mod:`kiosk.fingerprint.sensor`, whose captures carry numpy images. A kiosk without a
fingerprint sensor then never imports numpy or the matcher (about 15 MB and 0.15 s, docs/performance.md)."""
from __future__ import annotations

from enum import Enum


class FingerPrompt(str, Enum):
    """What the screen should tell the user while a capture runs (prompts, never errors)."""

    PLACE_FINGER = "place_finger"              # the device waits for a finger
    FINGER_DETECTED = "finger_detected"        # a finger is on the sensor: hold still
    RETRY_TOO_SHORT = "retry_too_short"        # swipe / touch too short: try again
    RETRY_CENTER_FINGER = "retry_center_finger"  # centre the finger on the sensor and try again
    RETRY_REMOVE_FINGER = "retry_remove_finger"  # lift the finger, then try again
    RETRY_GENERAL = "retry_general"            # the scan was not usable (e.g. no ridges found): try again


RETRY_PROMPTS = frozenset({FingerPrompt.RETRY_TOO_SHORT, FingerPrompt.RETRY_CENTER_FINGER,
                           FingerPrompt.RETRY_REMOVE_FINGER, FingerPrompt.RETRY_GENERAL})


class SensorStatus(str, Enum):
    """Device presence, for the status bar and diagnosis."""

    PRESENT = "present"      # opened and ready
    ABSENT = "absent"        # unplugged / removed from the system; reopened when it comes back
    CLOSED = "closed"        # closed by us


__all__ = ["FingerPrompt", "RETRY_PROMPTS", "SensorStatus"]
