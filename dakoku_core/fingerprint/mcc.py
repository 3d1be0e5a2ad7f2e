"""Minutia Cylinder-Code (Cappelli, Ferrara, Maltoni, IEEE TPAMI 32(12), 2010), bit version, vectorised.

Each minutia gets a cylinder: NS x NS spatial cells of side 2R/NS around it, rotated to its direction, times ND
angular cells; a cell bit is set when the neighbouring minutiae near the cell centre, with a direction difference
near the cell's, contribute more than mu_psi. A cell is valid when it lies within R of the minutia and inside the
convex hull of all minutiae enlarged by omega. Every pairwise quantity of the masked bit similarity is a matrix
product of 0/1 matrices (see :func:`local_similarities_many`): one probe against several templates costs one
SGEMM on the unpacked bits and three small ones on per-cell counts and validity, for all of them at once.
Encoding decides cells in :mod:`dakoku_core.fingerprint.mcc_cells`, fast and with the same bits as the plain definition.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from math import pi

import numpy as np

from dakoku_core.fingerprint import mcc_cells
from dakoku_core.fingerprint.mcc_cells import (  # noqa: F401  (the cylinder parameters are part of this module's API)
    CELLS, MU_PSI, ND, NS, OMEGA, SIGMA_D, SIGMA_S, R, angle_diff,
)
from dakoku_core.fingerprint.template import FingerprintTemplate

MIN_VALID_FRACTION = 0.75     # minVC, of the cells within R
MIN_NEIGHBOURS = 2            # minM
MIN_MATCHING_FRACTION = 0.60  # minME, of the cells within R
MAX_ANGLE = pi / 2            # delta-theta: cylinders whose directions differ more never match
MAX_MINUTIAE = 80             # the best by quality are kept
POOL = 2                      # the compact prefilter code pools 2x2 spatial and 2 angular cells

_CELLS_IN_RADIUS = int(mcc_cells.IN_RADIUS.sum())


@dataclass(frozen=True, eq=False)
class CylinderCode:
    """The MCC of one template: valid cylinders only, with their minutiae (math coordinates, y up).

    Bits are kept packed (192 + 32 bytes per cylinder) so that large galleries stay small in memory.
    """

    xy: np.ndarray            # (n, 2) float32
    angles: np.ndarray        # (n,) float32, radians
    packed_bits: np.ndarray   # (n, CELLS / 8) uint8
    packed_valid: np.ndarray  # (n, NS * NS / 8) uint8: the spatial validity (same for every angular cell)
    encoded: bytes | None = field(default=None, repr=False)   # the compressed bytes it was decoded from (code_codec)

    def __len__(self) -> int:
        return int(self.xy.shape[0])

    @property
    def bits(self) -> np.ndarray:
        """(n, CELLS) float32 0/1."""
        return np.unpackbits(self.packed_bits, axis=1, count=CELLS).astype(np.float32)

    @property
    def cell_counts(self) -> np.ndarray:
        """(n, NS * NS) float32: set bits per spatial cell (over its ND angular cells)."""
        return _cell_counts(self.packed_bits)

    @property
    def spatial_valid(self) -> np.ndarray:
        """(n, NS * NS) float32 0/1: which spatial cells are valid (all ND angular cells share it)."""
        return np.unpackbits(self.packed_valid, axis=1, count=NS * NS).astype(np.float32)


def _cell_counts(packed_bits: np.ndarray) -> np.ndarray:
    cells = np.unpackbits(packed_bits, axis=1, count=CELLS).reshape(len(packed_bits), NS * NS, ND)
    total = cells[:, :, 0].copy()
    for k in range(1, ND):
        total += cells[:, :, k]
    return total.astype(np.float32)


def encode(template: FingerprintTemplate) -> CylinderCode:
    """The cylinder code of a template (its best ``MAX_MINUTIAE`` minutiae)."""
    t = template.best(MAX_MINUTIAE)
    xy = np.column_stack([t.xy[:, 0], -t.xy[:, 1]]).astype(np.float64)
    theta = t.angles.astype(np.float64)
    n = len(t)
    if n < MIN_NEIGHBOURS + 1:
        return _empty()
    minutiae = mcc_cells.Minutiae(xy, theta, np.cos(theta), np.sin(theta))
    valid = mcc_cells.hull_valid(minutiae)                                          # (n, P)
    distance = np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1))
    near = distance <= R + 3 * SIGMA_S
    keep = (valid.sum(axis=1) >= MIN_VALID_FRACTION * _CELLS_IN_RADIUS) & (near.sum(axis=1) - 1 >= MIN_NEIGHBOURS)
    valid = valid[keep]
    bits = mcc_cells.cell_bits(np.nonzero(keep)[0], valid, minutiae, distance)
    return CylinderCode(xy[keep].astype(np.float32), theta[keep].astype(np.float32),
                        np.packbits(bits.reshape(-1, CELLS), axis=1), np.packbits(valid, axis=1))


def compact_code(bits: np.ndarray) -> np.ndarray:
    """Pool (n, CELLS) bits by POOL in every axis, take square roots and L2-normalise: the prefilter code."""
    n = bits.shape[0]
    cube = bits.reshape(n, NS // POOL, POOL, NS // POOL, POOL, ND // POOL, POOL).astype(np.float32)
    pooled = np.sqrt(cube.sum(axis=(2, 4, 6)).reshape(n, -1))
    return (pooled / (np.linalg.norm(pooled, axis=1, keepdims=True) + 1e-6)).astype(np.float32)


def _empty() -> CylinderCode:
    return CylinderCode(np.zeros((0, 2), np.float32), np.zeros(0, np.float32), np.zeros((0, CELLS // 8), np.uint8),
                        np.zeros((0, NS * NS // 8), np.uint8))


def local_similarities(a: CylinderCode, b: CylinderCode) -> np.ndarray:
    """The (len(a), len(b)) matrix of masked bit-cylinder similarities (0 where not matchable)."""
    return local_similarities_many(a, [b])[0]


def local_similarities_many(a: CylinderCode, others: list[CylinderCode]) -> list[np.ndarray]:
    """:func:`local_similarities` of ``a`` against each of ``others``, with one SGEMM per quantity for all."""
    sizes = [len(b) for b in others]
    if len(a) == 0 or sum(sizes) == 0:
        return [np.zeros((len(a), n), np.float32) for n in sizes]
    b_packed = np.concatenate([b.packed_bits for b in others])
    b_bits = np.unpackbits(b_packed, axis=1, count=CELLS).astype(np.float32)
    b_valid = np.unpackbits(np.concatenate([b.packed_valid for b in others]), axis=1, count=NS * NS).astype(np.float32)
    b_counts = _cell_counts(b_packed)
    b_angles = np.concatenate([b.angles for b in others])
    a_valid = a.spatial_valid
    both = a.bits @ b_bits.T                 # |a AND b| (both imply their own validity)
    a_on_b = a.cell_counts @ b_valid.T       # |a restricted to b's valid cells|
    b_on_a = a_valid @ b_counts.T
    common = (a_valid @ b_valid.T) * ND
    xor = np.maximum(a_on_b + b_on_a - 2 * both, 0.0)
    denom = np.sqrt(a_on_b) + np.sqrt(b_on_a)
    sim = np.where(denom > 0, 1.0 - np.sqrt(xor) / np.maximum(denom, 1e-9), 0.0)
    matchable = (common >= MIN_MATCHING_FRACTION * _CELLS_IN_RADIUS * ND) & \
        (np.abs(angle_diff(a.angles[:, None], b_angles[None, :])) <= MAX_ANGLE)
    sims = np.where(matchable, sim, 0.0).astype(np.float32)
    return np.split(sims, np.cumsum(sizes)[:-1], axis=1)
