"""Second opinion on a comparison: minutiae paired after the best alignment, with a distortion-tolerant fit.

LSS-R (:mod:`relaxation`) scores the few pairs that agree best with each other, so a stranger's print that
happens to share a handful of similar neighbourhoods can score like a weak genuine one, and a strongly distorted
genuine print loses its far pairs. This stage starts from the pairs LSS-R averaged (its best alignment), fits a
rigid transform to them, pairs every minutia of the probe with the gallery's within a tolerance that grows with
the distance from the aligned centre (skin stretches more away from the contact centre), refits an affine
transform to the pairs found and pairs again (twice, a tighter tolerance that still grows outwards), and, when at
least TPS_MIN_PAIRS pairs agree, fits a regularised thin-plate spline to them and pairs once more within a tight
flat tolerance (strong elastic distortion bends the print more than an affine map follows; with fewer pairs a
spline would bend a stranger's print onto the gallery's). The score is ``m^2 / (nA * nB)`` with ``m`` the pairs and ``nA``,
``nB`` the minutiae of each print that lie in the other's overlap (its convex hull after alignment), the
fraction of the common area that agrees. It is computed on every candidate the identify path scores
(:meth:`FingerprintIdentifier.candidate_scores`), never alone: it is fused with LSS-R (:func:`fused_raw`).
"""
from __future__ import annotations

from math import pi

import numpy as np

from dakoku_core.fingerprint.mcc import CylinderCode, angle_diff

TOLERANCE_PX = 8.0         # pairing distance at the aligned centre ...
TOLERANCE_SLOPE = 0.04     # ... plus this much per px away from it (distortion grows outwards)
REFIT_TOLERANCE_PX = 6.0   # after each affine refit ...
REFIT_SLOPE = 0.02         # ... plus this much per px from the centre
REFITS = 2
TPS_MIN_PAIRS = 16         # thin-plate refit only on this many affine pairs (TUNING: 10 hurt small_sensor badly)
TPS_LAMBDA = 1000.0        # its regulariser (TUNING: 1,000 / 3,000 / 10,000 tried)
TPS_TOLERANCE_PX = 5.0     # pairing distance after it, flat
MAX_ANGLE = pi / 6
MIN_OVERLAP = 8            # minutiae counted in an overlap at least (small overlaps are weak evidence)
OFFSET, EXPONENT = 0.2, 2.0  # fused raw = LSS-R x (OFFSET + pairing score) ** EXPONENT (TUNING)
CANDIDATES = 10            # only the best candidates by LSS-R get the second stage (the others count as 0)
VERSION = 3                # of the fused raw score (cached search runs are keyed by it)


def fused_raw(lss_r: float, pairing_score: float) -> float:
    """LSS-R weighted by how much of the common area pairs up: a stranger's few look-alike neighbourhoods keep
    their LSS-R but pair little else, a distorted genuine print pairs much more than LSS-R's few pairs show."""
    return lss_r * (OFFSET + pairing_score) ** EXPONENT


def _rigid(pa: np.ndarray, pb: np.ndarray) -> tuple[np.ndarray, float]:
    """(2x3 affine matrix, rotation) of the least-squares rotation + translation taking ``pa`` onto ``pb``."""
    ca, cb = pa.mean(axis=0), pb.mean(axis=0)
    qa, qb = pa - ca, pb - cb
    theta = float(np.arctan2(np.sum(qa[:, 0] * qb[:, 1] - qa[:, 1] * qb[:, 0]), np.sum(qa * qb)))
    c, s = np.cos(theta), np.sin(theta)
    rot = np.array([[c, -s], [s, c]])
    return np.hstack([rot, (cb - rot @ ca)[:, None]]), theta


def _affine(pa: np.ndarray, pb: np.ndarray) -> np.ndarray:
    design = np.hstack([pa, np.ones((len(pa), 1))])
    solution, *_ = np.linalg.lstsq(design, pb, rcond=None)
    return solution.T


def _apply(m: np.ndarray, p: np.ndarray) -> np.ndarray:
    return p @ m[:, :2].T + m[:, 2]


def _pairs(pa: np.ndarray, ta: np.ndarray, pb: np.ndarray, tb: np.ndarray, tol: np.ndarray):
    """Mutually nearest pairs (by distance over tolerance) within the tolerance and MAX_ANGLE."""
    d = np.hypot(pa[:, None, 0] - pb[None, :, 0], pa[:, None, 1] - pb[None, :, 1]) / tol[None, :]
    d[np.abs(angle_diff(ta[:, None], tb[None, :])) > MAX_ANGLE] = np.inf
    best_b = d.argmin(axis=1)
    best_a = d.argmin(axis=0)
    ia = np.nonzero((best_a[best_b] == np.arange(len(pa))) & (d[np.arange(len(pa)), best_b] <= 1.0))[0]
    return ia, best_b[ia]


def _tps_kernel(d2: np.ndarray) -> np.ndarray:
    """U(r) = r^2 log r, written on squared distances (0 at r = 0)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        u = 0.5 * d2 * np.log(d2)
    u[d2 <= 0] = 0.0
    return u


def _tps(src: np.ndarray, dst: np.ndarray, points: np.ndarray) -> np.ndarray:
    """``points`` through the thin-plate spline taking ``src`` near ``dst`` (regularised by TPS_LAMBDA)."""
    n = len(src)
    affine = np.hstack([np.ones((n, 1)), src])
    system = np.zeros((n + 3, n + 3))
    system[:n, :n] = _tps_kernel(((src[:, None] - src[None]) ** 2).sum(-1)) + TPS_LAMBDA * np.eye(n)
    system[:n, n:], system[n:, :n] = affine, affine.T
    rhs = np.zeros((n + 3, 2))
    rhs[:n] = dst
    w = np.linalg.solve(system, rhs)
    return _tps_kernel(((points[:, None] - src[None]) ** 2).sum(-1)) @ w[:n] + w[n] + points @ w[n + 1:]


_DIRECTIONS = np.stack([np.cos(np.arange(24) * 2 * pi / 24), np.sin(np.arange(24) * 2 * pi / 24)])


def _hull(p: np.ndarray) -> np.ndarray:
    """The convex polygon of the extreme points in 24 directions (counter-clockwise): the convex hull, up to
    slivers, in a few vectorised operations."""
    idx = np.argmax(p @ _DIRECTIONS, axis=0)
    keep = np.concatenate([[True], idx[1:] != idx[:-1]])
    idx = idx[keep]
    if len(idx) > 1 and idx[0] == idx[-1]:
        idx = idx[:-1]
    return p[idx]


def _inside(points: np.ndarray, hull: np.ndarray) -> np.ndarray:
    if len(hull) < 3:
        return np.zeros(len(points), dtype=bool)
    v, w = hull, np.roll(hull, -1, axis=0)
    cross = ((w[None, :, 0] - v[None, :, 0]) * (points[:, None, 1] - v[None, :, 1])
             - (w[None, :, 1] - v[None, :, 1]) * (points[:, None, 0] - v[None, :, 0]))
    return np.all(cross >= -1e-6, axis=1)


def pairing_score(a: CylinderCode, b: CylinderCode, ia: np.ndarray, ib: np.ndarray) -> float:
    """m^2 / (nA * nB) in [0, 1] after aligning ``a`` onto ``b`` by the pairs (ia, ib) LSS-R averaged."""
    if len(ia) < 2 or len(a) < 3 or len(b) < 3:
        return 0.0
    pa, pb = a.xy.astype(np.float64), b.xy.astype(np.float64)
    m, theta = _rigid(pa[ia], pb[ib])
    centre = pb[ib].mean(axis=0)
    distance = np.hypot(*(pb - centre).T)
    qa = _apply(m, pa)
    ja, jb = _pairs(qa, a.angles + theta, pb, b.angles, TOLERANCE_PX + TOLERANCE_SLOPE * distance)
    for _ in range(REFITS):
        if len(ja) < 6:
            break
        m = _affine(pa[ja], pb[jb])
        qa = _apply(m, pa)
        ja, jb = _pairs(qa, a.angles + theta, pb, b.angles, REFIT_TOLERANCE_PX + REFIT_SLOPE * distance)
    if len(ja) >= TPS_MIN_PAIRS:
        try:
            qa = _tps(pa[ja], pb[jb], pa)
        except np.linalg.LinAlgError:
            pass
        else:
            ja, jb = _pairs(qa, a.angles + theta, pb, b.angles, np.full(len(pb), TPS_TOLERANCE_PX))
    n_a = max(int(_inside(qa, _hull(pb)).sum()), MIN_OVERLAP)
    n_b = max(int(_inside(pb, _hull(qa)).sum()), MIN_OVERLAP)
    return min(len(ja) ** 2 / (n_a * n_b), 1.0)
