"""The cylinder geometry of MCC and the cell computations of the encoder (used by :mod:`dakoku_core.fingerprint.mcc`).

Speed without changing a bit: the reference definitions are :func:`hull_margins` (how far a cell centre lies
outside the convex hull of the minutiae) and :func:`exact_sums` (the Gaussian contributions of the neighbours to a
cell, summed in neighbour order). The encoder decides most cells with cheaper arithmetic whose error is bounded
(the margin is 1-Lipschitz; contributions are summed in each cylinder's own frame over a 7 x 7 window of cells per
neighbour) and recomputes with the reference definitions every cell whose decision lies within that error bound
of its threshold. Matrix products in the reference definitions keep at least two rows and two columns so that
BLAS computes every element the same way as for the whole template.
"""
from __future__ import annotations

from math import pi, sqrt
from typing import NamedTuple

import numpy as np

R = 70.0
NS = 16
ND = 6
SIGMA_S = 28.0 / 3.0
SIGMA_D = 2.0 * pi / 9.0
MU_PSI = 0.01
OMEGA = 50.0
CELLS = NS * NS * ND

D_S = 2.0 * R / NS
_D_D = 2.0 * pi / ND
_OFFSETS = (np.arange(NS) - (NS - 1) / 2.0) * D_S
CELL_U, CELL_V = [a.ravel() for a in np.meshgrid(_OFFSETS, _OFFSETS, indexing="xy")]
_CELL_RADIUS = np.hypot(CELL_U, CELL_V)
IN_RADIUS = _CELL_RADIUS <= R
_ANGLE_CENTRES = -pi + (np.arange(ND) + 0.5) * _D_D
_REACH = 3 * SIGMA_S                    # neighbours farther than this from a cell centre do not contribute
_EPS = float(np.finfo(np.float64).eps)
_WIDTH = int(2 * _REACH // D_S) + 1     # a disc of radius 3 sigma_S spans at most this many cells in each axis
_PAD = _WIDTH + 1                       # grid padding for windows of neighbours up to R + 3 sigma_S away
_PADDED = NS + 2 * _PAD
_WINDOW_CELLS = _WIDTH * _WIDTH
_WINDOW_AT = (np.arange(_WIDTH)[:, None] * _PADDED + np.arange(_WIDTH)).ravel()   # row-major (v, u) in padded grid


def angle_diff(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a - b wrapped to [-pi, pi)."""
    return np.mod(a - b + np.pi, 2 * np.pi) - np.pi


def angular_weights(dtheta: np.ndarray) -> np.ndarray:
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


def _two_rows(a: np.ndarray) -> np.ndarray:
    # A one-row product goes to GEMV, whose sums may round differently from GEMM's.
    return np.concatenate([a, a]) if len(a) == 1 else a


class Minutiae(NamedTuple):
    """Minutiae in math coordinates (y up) with the cosines and sines of their directions."""

    xy: np.ndarray        # (n, 2) float64
    theta: np.ndarray     # (n,) float64
    cos: np.ndarray       # (n,) np.cos(theta), computed once for the whole array
    sin: np.ndarray

    def centres(self, minutia: np.ndarray, cell: np.ndarray) -> np.ndarray:
        """(k, 2): centres of cells ``cell`` of the cylinders of ``minutia`` (rotated to each minutia's direction)."""
        cos, sin, u, v = self.cos[minutia], self.sin[minutia], CELL_U[cell], CELL_V[cell]
        return np.stack([self.xy[minutia, 0] + cos * u - sin * v, self.xy[minutia, 1] + sin * u + cos * v], axis=-1)


def convex_hull(points: np.ndarray) -> np.ndarray | None:
    """The convex hull of ``points`` counter-clockwise (monotone chain), None for fewer than 3 distinct points."""
    pts = points[np.lexsort((points[:, 1], points[:, 0]))]
    pts = pts[np.concatenate([[True], np.any(pts[1:] != pts[:-1], axis=1)])]      # distinct, sorted by x then y
    if len(pts) < 3:
        return None

    def chain(seq):
        out: list[tuple[float, float]] = []
        for x, y in seq.tolist():
            while len(out) >= 2 and ((out[-1][0] - out[-2][0]) * (y - out[-2][1])
                                     - (out[-1][1] - out[-2][1]) * (x - out[-2][0])) <= 0:
                out.pop()
            out.append((x, y))
        return out

    return np.array(chain(pts)[:-1] + chain(pts[::-1])[:-1])


def hull_margins(queries: np.ndarray, normals: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """How far outside the hull each (m, 2) query lies (<= 0 inside); mitred offset. The reference definition."""
    return (_two_rows(queries) @ normals.T - offsets).max(axis=1)[:len(queries)]


def hull_valid(minutiae: Minutiae) -> np.ndarray:
    """(n, P) bool: cells within R of their minutia and within OMEGA of the convex hull of all minutiae.

    The margin is a maximum of distances to lines, so it grows by at most |c - p| from a minutia p to a cell c:
    cells closer to their minutia than OMEGA minus its own margin are inside, and only the others are tested.
    """
    points = minutiae.xy
    hull = convex_hull(points)
    if hull is None:
        return np.zeros((len(points), NS * NS), dtype=bool)
    edges = np.roll(hull, -1, axis=0) - hull
    normals = np.stack([edges[:, 1], -edges[:, 0]], axis=1)            # outward for CCW
    normals /= np.linalg.norm(normals, axis=1, keepdims=True) + 1e-12
    offsets = np.sum(hull * normals, axis=1)
    own = hull_margins(points, normals, offsets)
    slack = 1e-9 * (1.0 + np.abs(points).max() + R)
    valid = IN_RADIUS & (_CELL_RADIUS <= (OMEGA - slack - own)[:, None])
    minutia, cell = np.nonzero(IN_RADIUS & ~valid)
    if minutia.size:
        valid[minutia, cell] = hull_margins(minutiae.centres(minutia, cell), normals, offsets) <= OMEGA
    return valid


def exact_sums(cells: np.ndarray, cell_owner: np.ndarray, xy: np.ndarray, theta: np.ndarray) -> np.ndarray:
    """Sum of G_S * G_D over the neighbours within 3 sigma_S of each cell centre: (len(cells), ND).

    The reference definition. ``cell_owner`` is the minutia each cell belongs to (it never contributes to its
    own cylinder); each sum runs over the neighbours in their order in ``xy``.
    """
    m = len(cells)
    cells = _two_rows(cells)
    dist2 = (np.sum(cells ** 2, axis=1)[:, None] + np.sum(xy ** 2, axis=1)[None, :] - 2.0 * cells @ xy.T)[:m]
    rows, cols = np.nonzero(dist2 <= _REACH ** 2)
    owner = cell_owner[rows]
    keep = owner != cols
    rows, cols, owner = rows[keep], cols[keep], owner[keep]
    spatial = np.exp(-dist2[rows, cols] / (2 * SIGMA_S ** 2)) / (SIGMA_S * sqrt(2 * pi))
    directional = angular_weights(angle_diff(theta[owner], theta[cols]))          # (nnz, ND)
    out = np.empty((m, ND))
    for k in range(ND):
        out[:, k] = np.bincount(rows, weights=spatial * directional[:, k], minlength=m)
    return out


def cell_bits(owners: np.ndarray, valid: np.ndarray, minutiae: Minutiae, distance: np.ndarray) -> np.ndarray:
    """(len(owners), P, ND) bool: the cell bits of the cylinders of minutiae ``owners`` (their valid cells only).

    Sums are first taken in each cylinder's frame; cells whose sum is within the error bound of MU_PSI, or with
    a neighbour within it of the 3 sigma_S cut-off, are recomputed by :func:`exact_sums`.
    """
    bits = np.zeros(valid.shape + (ND,), dtype=bool)
    if len(owners) == 0:
        return bits
    scale = np.abs(minutiae.xy).max() + R + _REACH       # bounds every coordinate of a cell centre or a minutia
    tol_d2 = 64 * _EPS * scale ** 2 + 1e-9
    doubtful = valid.ravel()
    if tol_d2 <= 1.0:           # else coordinates beyond about 1e7 px, where the windows would be too narrow
        tol_sum = 10 * len(minutiae.xy) * (3e-4 * tol_d2 + 1e-15)
        doubtful = doubtful & _framed_bits(owners, valid, minutiae, distance, tol_d2, tol_sum, bits)
    local, cell = np.divmod(np.flatnonzero(doubtful), NS * NS)
    if local.size:
        centres = minutiae.centres(owners[local], cell)
        bits[local, cell] = exact_sums(centres, owners[local], minutiae.xy, minutiae.theta) >= MU_PSI
    return bits


def _framed_bits(owners, valid, minutiae, distance, tol_d2, tol_sum, bits):
    """Sets ``bits`` from approximate sums; returns the cells (flat) to recompute exactly.

    Each neighbour within R + 3 sigma_S of a minutia is placed in the minutia's frame, where the cell centres are
    a fixed grid: only a 7 x 7 window of cells around it can be within 3 sigma_S. The grid is padded so that
    windows reaching past its edge need no clipping.
    """
    m = len(owners)
    slack = sqrt(_REACH ** 2 + tol_d2) - _REACH
    pair = distance[owners] <= R + _REACH + slack
    pair[np.arange(m), owners] = False
    local, other = np.nonzero(pair)
    mine = owners[local]
    xy, theta = minutiae.xy, minutiae.theta
    dx, dy = xy[other, 0] - xy[mine, 0], xy[other, 1] - xy[mine, 1]
    c, s = minutiae.cos[mine], minutiae.sin[mine]
    iu, du2 = _window(c * dx + s * dy, slack)
    iv, dv2 = _window(c * dy - s * dx, slack)
    d2 = (dv2[:, :, None] + du2[:, None, :]).reshape(len(local), -1)           # (pairs, window cells)
    cell_at = np.full((m, _PADDED, _PADDED), -1, dtype=np.int32)                # padded grid -> cell index or -1
    cell_at[:, _PAD:_PAD + NS, _PAD:_PAD + NS] = np.where(valid, np.arange(valid.size).reshape(valid.shape), -1
                                                          ).reshape(m, NS, NS)
    cell = cell_at.ravel()[((local * _PADDED + iv + _PAD) * _PADDED + iu + _PAD)[:, None] + _WINDOW_AT]
    hit = np.flatnonzero((cell >= 0) & (d2 <= _REACH ** 2 + tol_d2))
    p, d2, cell = hit // _WINDOW_CELLS, d2.ravel()[hit], cell.ravel()[hit]
    spatial = np.exp(-d2 / (2 * SIGMA_S ** 2)) / (SIGMA_S * sqrt(2 * pi))
    directional = angular_weights(angle_diff(theta[mine], theta[other])).T.copy()
    doubtful = np.zeros(m * NS * NS, dtype=bool)
    doubtful[cell[d2 >= _REACH ** 2 - tol_d2]] = True
    flat_bits = bits.reshape(-1, ND)
    for k in range(ND):
        gap = np.bincount(cell, spatial * directional[k][p], minlength=m * NS * NS) - MU_PSI
        flat_bits[:, k] = gap >= 0
        doubtful |= np.abs(gap) <= tol_sum
    return doubtful


def _window(t: np.ndarray, slack: float) -> tuple[np.ndarray, np.ndarray]:
    """First grid index of the window around each local coordinate, and squared offsets to the window's cells."""
    first = np.ceil((t - _REACH - slack) / D_S + (NS - 1) / 2)
    first = np.clip(np.nan_to_num(first), -_PAD, NS + _PAD - _WIDTH).astype(np.int64)
    offset = (first[:, None] + np.arange(_WIDTH) - (NS - 1) / 2) * D_S - t[:, None]
    return first, offset ** 2
