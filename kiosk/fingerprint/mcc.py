"""Minutia Cylinder-Code (Cappelli, Ferrara, Maltoni, IEEE TPAMI 32(12), 2010), bit version, vectorised.

Each minutia gets a cylinder: NS x NS spatial cells of side 2R/NS around it, rotated to its direction, times ND
angular cells; a cell bit is set when the neighbouring minutiae near the cell centre, with a direction difference
near the cell's, contribute more than mu_psi. A cell is valid when it lies within R of the minutia and inside the
convex hull of all minutiae enlarged by omega. Every pairwise quantity of the masked bit similarity is a matrix
product of 0/1 matrices (see :func:`local_similarities_many`): one probe against several templates costs one
SGEMM on the unpacked bits and three small ones on per-cell counts and validity, for all of them at once.
"""
from __future__ import annotations

from dataclasses import dataclass
from math import pi, sqrt

import numpy as np

from kiosk.fingerprint.template import FingerprintTemplate

R = 70.0
NS = 16
ND = 6
SIGMA_S = 28.0 / 3.0
SIGMA_D = 2.0 * pi / 9.0
MU_PSI = 0.01
OMEGA = 50.0
MIN_VALID_FRACTION = 0.75     # minVC, of the cells within R
MIN_NEIGHBOURS = 2            # minM
MIN_MATCHING_FRACTION = 0.60  # minME, of the cells within R
MAX_ANGLE = pi / 2            # delta-theta: cylinders whose directions differ more never match
MAX_MINUTIAE = 80             # the best by quality are kept
CELLS = NS * NS * ND
POOL = 2                      # the compact prefilter code pools 2x2 spatial and 2 angular cells

_D_S = 2.0 * R / NS
_D_D = 2.0 * pi / ND
_OFFSETS = (np.arange(NS) - (NS - 1) / 2.0) * _D_S
_CELL_U, _CELL_V = [a.ravel() for a in np.meshgrid(_OFFSETS, _OFFSETS, indexing="xy")]
_IN_RADIUS = np.hypot(_CELL_U, _CELL_V) <= R
_CELLS_IN_RADIUS = int(_IN_RADIUS.sum())
_ANGLE_CENTRES = -pi + (np.arange(ND) + 0.5) * _D_D


@dataclass(frozen=True, eq=False)
class CylinderCode:
    """The MCC of one template: valid cylinders only, with their minutiae (math coordinates, y up).

    Bits are kept packed (192 + 32 bytes per cylinder) so that large galleries stay small in memory.
    """

    xy: np.ndarray            # (n, 2) float32
    angles: np.ndarray        # (n,) float32, radians
    packed_bits: np.ndarray   # (n, CELLS / 8) uint8
    packed_valid: np.ndarray  # (n, NS * NS / 8) uint8: the spatial validity (same for every angular cell)

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


def angle_diff(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a - b wrapped to [-pi, pi)."""
    return np.mod(a - b + np.pi, 2 * np.pi) - np.pi


def _angular_weights(dtheta: np.ndarray) -> np.ndarray:
    """G_D: the Gaussian integrated over each angular cell, for direction differences (..., ) -> (..., ND)."""
    alpha = angle_diff(_ANGLE_CENTRES, dtheta[..., None])
    lo = (alpha - _D_D / 2) / (SIGMA_D * sqrt(2.0))
    hi = (alpha + _D_D / 2) / (SIGMA_D * sqrt(2.0))
    return 0.5 * (_erf(hi) - _erf(lo))


def _erf(x: np.ndarray) -> np.ndarray:
    # Abramowitz-Stegun 7.1.26, |error| < 1.5e-7: NumPy has no erf.
    s = np.sign(x)
    a = np.abs(x)
    t = 1.0 / (1.0 + 0.3275911 * a)
    poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))))
    return s * (1.0 - poly * np.exp(-a * a))


def _hull_margin(points: np.ndarray, queries: np.ndarray) -> np.ndarray:
    """How far outside the convex hull of ``points`` each query lies (<= 0 inside); mitred offset."""
    pts = np.unique(points, axis=0)
    if len(pts) < 3:
        return np.full(queries.shape[:-1], np.inf)
    pts = pts[np.lexsort((pts[:, 1], pts[:, 0]))]

    def chain(seq):
        out: list[tuple[float, float]] = []
        for x, y in seq.tolist():
            while len(out) >= 2 and ((out[-1][0] - out[-2][0]) * (y - out[-2][1])
                                     - (out[-1][1] - out[-2][1]) * (x - out[-2][0])) <= 0:
                out.pop()
            out.append((x, y))
        return out

    hull = np.array(chain(pts)[:-1] + chain(pts[::-1])[:-1])          # counter-clockwise
    edges = np.roll(hull, -1, axis=0) - hull
    normals = np.stack([edges[:, 1], -edges[:, 0]], axis=1)            # outward for CCW
    normals /= np.linalg.norm(normals, axis=1, keepdims=True) + 1e-12
    flat = queries.reshape(-1, 2) @ normals.T - np.sum(hull * normals, axis=1)
    return flat.max(axis=1).reshape(queries.shape[:-1])


def encode(template: FingerprintTemplate) -> CylinderCode:
    """The cylinder code of a template (its best ``MAX_MINUTIAE`` minutiae)."""
    t = template.best(MAX_MINUTIAE)
    xy = np.column_stack([t.xy[:, 0], -t.xy[:, 1]]).astype(np.float64)
    theta = t.angles.astype(np.float64)
    n = len(t)
    if n < MIN_NEIGHBOURS + 1:
        return _empty()
    cos, sin = np.cos(theta)[:, None], np.sin(theta)[:, None]
    centres = np.stack([xy[:, :1] + cos * _CELL_U - sin * _CELL_V,
                        xy[:, 1:] + sin * _CELL_U + cos * _CELL_V], axis=-1)        # (n, P, 2)
    valid = _IN_RADIUS[None, :] & (_hull_margin(xy, centres) <= OMEGA)            # (n, P)
    near = np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1)) <= R + 3 * SIGMA_S
    keep = (valid.sum(axis=1) >= MIN_VALID_FRACTION * _CELLS_IN_RADIUS) & (near.sum(axis=1) - 1 >= MIN_NEIGHBOURS)
    valid = valid[keep]
    owner_local, _ = np.nonzero(valid)                      # only the valid cells of kept cylinders are computed
    owners = np.nonzero(keep)[0][owner_local]
    bits = np.zeros(valid.shape + (ND,), dtype=bool)
    bits[valid] = _contributions(centres[keep][valid], owners, xy, theta) >= MU_PSI
    return CylinderCode(xy[keep].astype(np.float32), theta[keep].astype(np.float32),
                        np.packbits(bits.reshape(-1, CELLS), axis=1), np.packbits(valid, axis=1))


def _contributions(cells: np.ndarray, cell_owner: np.ndarray, xy: np.ndarray, theta: np.ndarray) -> np.ndarray:
    """Sum of G_S * G_D over the neighbours within 3 sigma_S of each cell centre: (len(cells), ND).

    ``cell_owner`` is the minutia each cell belongs to (it never contributes to its own cylinder). Only about 5 %
    of (cell, minutia) pairs are that close, so the Gaussians are evaluated sparsely.
    """
    dist2 = (np.sum(cells ** 2, axis=1)[:, None] + np.sum(xy ** 2, axis=1)[None, :] - 2.0 * cells @ xy.T)
    rows, cols = np.nonzero(dist2 <= (3 * SIGMA_S) ** 2)
    owner = cell_owner[rows]
    keep = owner != cols
    rows, cols, owner = rows[keep], cols[keep], owner[keep]
    spatial = np.exp(-dist2[rows, cols] / (2 * SIGMA_S ** 2)) / (SIGMA_S * sqrt(2 * pi))
    directional = _angular_weights(angle_diff(theta[owner], theta[cols]))          # (nnz, ND)
    out = np.empty((cells.shape[0], ND))
    for k in range(ND):
        out[:, k] = np.bincount(rows, weights=spatial * directional[:, k], minlength=cells.shape[0])
    return out


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
