"""The MCC encoder gives bit-for-bit the codes of the frozen reference (tests/fingerprint/data/mcc_golden.npz).

The reference was written by the encoder before its speed-up, for synthetic templates (minutiae-level seeds, some
round-tripped through the byte format), mindtct templates of image-level fingers, and edge cases (0-3 minutiae,
collinear and duplicate points, image borders, a lattice with right angles, more than MAX_MINUTIAE with tied
qualities). Enrolled codes on kiosks and servers must not change when the encoder does, so equality is exact.
A second test sends every cell through the reference definitions in mcc_cells (which the fast paths use only
near a threshold), so that they stay pinned too.

The reference was written on x86-64 with NumPy's OpenBLAS, whose GEMM rounds each 2-term dot product with one
fused multiply-add; a BLAS that rounds differently could move a bit within about 1e-13 of a threshold, for the
old encoder as for this one.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from dakoku_core.fingerprint import mcc, mcc_cells
from dakoku_core.fingerprint.template import FingerprintTemplate

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


@pytest.fixture
def reference_only(monkeypatch):
    """Every cell decided by the reference definitions (the fast paths normally send only a few cells there).

    Returns the number of cells given to each: hull margins and neighbour sums.
    """
    framed_bits, margins, hull_valid, exact_sums = (mcc_cells._framed_bits, mcc_cells.hull_margins,
                                                    mcc_cells.hull_valid, mcc_cells.exact_sums)
    seen = {"points": None, "margins": 0, "sums": 0}

    def all_doubtful(*args):
        doubtful = framed_bits(*args)
        doubtful[:] = True
        return doubtful

    def remembering_points(minutiae):
        seen["points"] = minutiae.xy
        return hull_valid(minutiae)

    def no_sure_cells(queries, normals, offsets):
        if queries is seen["points"]:           # the minutiae's own margins: make no cell surely inside
            return margins(queries, normals, offsets) + 1e3
        seen["margins"] += len(queries)
        return margins(queries, normals, offsets)

    def counted_sums(cells, *args):
        seen["sums"] += len(cells)
        return exact_sums(cells, *args)

    monkeypatch.setattr(mcc_cells, "_framed_bits", all_doubtful)
    monkeypatch.setattr(mcc_cells, "hull_valid", remembering_points)
    monkeypatch.setattr(mcc_cells, "hull_margins", no_sure_cells)
    monkeypatch.setattr(mcc_cells, "exact_sums", counted_sums)
    return seen


@pytest.mark.parametrize("name, template, expected", CASES[::6], ids=[c[0] for c in CASES[::6]])
def test_reference_definitions_match_the_frozen_reference(reference_only, name, template, expected):
    code = mcc.encode(template)
    for field in FIELDS:
        assert np.array_equal(getattr(code, field), expected[field]), (name, field)
    assert reference_only["sums"] == np.unpackbits(expected["packed_valid"]).sum()
    if len(code):
        assert reference_only["margins"] == min(len(template), mcc.MAX_MINUTIAE) * int(mcc_cells.IN_RADIUS.sum())
