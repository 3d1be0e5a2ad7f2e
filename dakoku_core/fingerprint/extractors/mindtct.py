"""The real minutiae extractor: NIST NBIS mindtct (public domain), through the afis 1.2.7 native build."""
from __future__ import annotations

import numpy as np

from dakoku_core.fingerprint import enhance as enhancement
from dakoku_core.fingerprint.extractors import nbis_native
from dakoku_core.fingerprint.extractors.base import as_grey_image
from dakoku_core.fingerprint.template import FingerprintTemplate

GATE = 0.5      # RidgeField.clarity below which a capture is enhanced (TUNING: base / small_sensor 5th
                # percentile 0.57 / 0.51, dry_wet_coarse median 0.37)


class MindtctExtractor:
    """NIST mindtct. Constructing it loads the library, so a missing backend fails at start-up.

    With ``enhance`` (the default since the seventh look, docs/fingerprint.md) a capture whose clarity is below
    ``gate`` (None: every capture) goes through :func:`dakoku_core.fingerprint.enhance.enhance` first: noisy,
    blurred, dry or wet prints. Clean captures go to mindtct unchanged: enhancing them all let strangers through on
    TUNING (base: 12 of 360). ``enhance=False`` is the raw extraction of before."""

    def __init__(self, enhance: bool = True, gate: float | None = GATE) -> None:
        nbis_native.load_library()
        self.enhance, self.gate = enhance, gate
        self.name = "nbis-mindtct+stft" if enhance else "nbis-mindtct"

    def extract(self, image: np.ndarray, dpi: int = 500) -> FingerprintTemplate:
        grey = as_grey_image(image)
        if self.enhance:
            grey = enhancement.enhance(grey, self.gate)
        return nbis_native.mindtct(grey, dpi)
