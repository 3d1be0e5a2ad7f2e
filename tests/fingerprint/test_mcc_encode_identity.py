"""The MCC encoder gives bit-for-bit the codes of the frozen reference (tests/fingerprint/data/mcc_golden.npz).

The reference was written by the encoder before its speed-up, for synthetic templates (minutiae-level seeds, some
round-tripped through the byte format), mindtct templates of image-level fingers, and edge cases (0-3 minutiae,
collinear and duplicate points, image borders, a lattice with right angles, more than MAX_MINUTIAE with tied
qualities). Enrolled codes on kiosks and servers must not change when the encoder does, so equality is exact.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from kiosk.fingerprint import mcc
from kiosk.fingerprint.template import FingerprintTemplate

GOLDEN = Path(__file__).parent / "data" / "mcc_golden.npz"
FIELDS = ("xy", "angles", "packed_bits", "packed_valid")


def _load() -> list[tuple[str, FingerprintTemplate, dict[str, np.ndarray]]]:
    with np.load(GOLDEN) as d:
        out = []
        for i, name in enumerate(d["names"].tolist()):
            width, height, dpi = (int(v) for v in d[f"size_{i}"])
            template = FingerprintTemplate(d[f"in_{i}"], width, height, dpi)
            out.append((name, template, {f: d[f"{f}_{i}"] for f in FIELDS}))
        return out


CASES = _load()


def test_golden_covers_the_edge_cases():
    names = {name for name, _, _ in CASES}
    assert len(CASES) >= 50
    assert {"count_0", "count_1", "count_2", "count_3", "collinear_horizontal", "image_borders",
            "ties_120"} <= names


@pytest.mark.parametrize("name, template, expected", CASES, ids=[c[0] for c in CASES])
def test_encode_matches_the_frozen_reference(name, template, expected):
    code = mcc.encode(template)
    for field in FIELDS:
        got, want = getattr(code, field), expected[field]
        assert got.dtype == want.dtype and got.shape == want.shape, (name, field)
        assert np.array_equal(got, want), (name, field, int(np.count_nonzero(got != want)))
