"""The extractor port: an 8-bit grey image in, a minutiae template out. Images are never kept."""
from __future__ import annotations

from typing import Protocol

import numpy as np

from dakoku_core.fingerprint.template import FingerprintTemplate


class MinutiaeExtractor(Protocol):
    """Turns a fingerprint image into minutiae.

    ``image`` is a 2-D uint8 array (rows, columns), dark ridges on a light background, at ``dpi``.
    A backend that cannot start raises ``KioskError("device_init_failed")`` when it is constructed.
    """

    name: str

    def extract(self, image: np.ndarray, dpi: int = 500) -> FingerprintTemplate: ...


def as_grey_image(image: np.ndarray) -> np.ndarray:
    """Validate and normalise an image argument to a C-contiguous 2-D uint8 array."""
    arr = np.asarray(image)
    if arr.ndim != 2:
        raise ValueError("a fingerprint image is a 2-D grey array")
    if arr.dtype != np.uint8:
        arr = np.clip(arr, 0, 255).astype(np.uint8)
    return np.ascontiguousarray(arr)
