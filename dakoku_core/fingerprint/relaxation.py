"""Global score from local cylinder similarities: LSS with relaxation (LSS-R), as in the MCC paper.

Candidate pairs: the paper takes the top ``min(nA, nB)`` local similarities. Measured on the TUNING seeds, the
minutiae that are each other's best match (mutual best pairs), at most ``CANDIDATE_FRACTION * min(nA, nB)`` of
them, did better (EER 0.86 % -> 0.50 %, FNMR at FMR 0.1 % 2.4 % -> 1.1 %): mindtct finds many spurious minutiae,
and one minutia taking part in several candidate pairs fed the relaxation with noise. Five relaxation rounds
then raise the pairs that are geometrically compatible with the others (distances, direction differences, radial
angles) and sink the rest; the score is the mean relaxed similarity of the ``nP`` most *efficient* pairs
(relaxed / initial).
"""
from __future__ import annotations

from math import pi

import numpy as np

from dakoku_core.fingerprint.mcc import CylinderCode, angle_diff

MIN_PAIRS, MAX_PAIRS = 4, 12
MU_P, TAU_P = 20.0, 0.4
RELAXATION_ROUNDS = 5
W_R = 0.5
MU_1, TAU_1 = 5.0, -8.0 / 5.0
MU_2, TAU_2 = pi / 12, -30.0
MU_3, TAU_3 = pi / 12, -30.0
CANDIDATE_FRACTION = 0.5


def _sigmoid(v: np.ndarray | float, mu: float, tau: float) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * tau * (np.asarray(v, dtype=np.float64) - mu)))


def pair_count(na: int, nb: int) -> int:
    """nP: how many pairs make the global score (grows with the smaller template)."""
    return MIN_PAIRS + int(round(float(_sigmoid(min(na, nb), MU_P, TAU_P)) * (MAX_PAIRS - MIN_PAIRS)))


def lss_score(sims: np.ndarray) -> float:
    """Plain LSS: the mean of the top nP local similarities."""
    if sims.size == 0:
        return 0.0
    n_p = min(pair_count(*sims.shape), sims.size)
    return float(np.mean(np.partition(sims.ravel(), -n_p)[-n_p:]))


def lss_r_score(a: CylinderCode, b: CylinderCode, sims: np.ndarray) -> float:
    """LSS-R global score in [0, 1] of two cylinder codes whose local similarities are ``sims``."""
    return lss_r_pairs(a, b, sims)[0]


def lss_r_pairs(a: CylinderCode, b: CylinderCode, sims: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    """The LSS-R score and the minutiae pairs it averaged (indices into ``a`` and ``b``): the best alignment."""
    na, nb = sims.shape
    none = np.zeros(0, dtype=np.intp)
    if min(na, nb) < 2:
        return 0.0, none, none
    top = candidate_pairs(sims, max(2, int(CANDIDATE_FRACTION * min(na, nb))))
    flat = sims.ravel()
    if len(top) < 2:
        return 0.0, none, none
    ia, ib = np.divmod(top, nb)
    initial = flat[top].astype(np.float64)
    rho = _compatibility(a.xy[ia].astype(np.float64), a.angles[ia].astype(np.float64),
                         b.xy[ib].astype(np.float64), b.angles[ib].astype(np.float64))
    relaxed = initial.copy()
    scale = (1.0 - W_R) / (len(top) - 1)
    for _ in range(RELAXATION_ROUNDS):
        relaxed = W_R * relaxed + scale * (rho @ relaxed)
    efficiency = relaxed / initial
    n_p = min(pair_count(na, nb), len(top))
    best = np.argpartition(efficiency, -n_p)[-n_p:]
    return float(np.mean(relaxed[best])), ia[best], ib[best]


def candidate_pairs(sims: np.ndarray, limit: int) -> np.ndarray:
    """Flat indices of mutual best pairs with a positive similarity, best first, at most ``limit``."""
    na, nb = sims.shape
    best_b = sims.argmax(axis=1)
    best_a = sims.argmax(axis=0)
    ia = np.nonzero(best_a[best_b] == np.arange(na))[0]
    flat_idx = ia * nb + best_b[ia]
    values = sims.ravel()[flat_idx]
    flat_idx = flat_idx[values > 0]
    order = np.argsort(-sims.ravel()[flat_idx], kind="stable")[:limit]
    return flat_idx[order]


def _compatibility(xa: np.ndarray, ta: np.ndarray, xb: np.ndarray, tb: np.ndarray) -> np.ndarray:
    """rho(t, k) for every two candidate pairs: how well their geometry agrees (0 on the diagonal)."""
    da = xa[None, :, :] - xa[:, None, :]
    db = xb[None, :, :] - xb[:, None, :]
    d1 = np.abs(np.hypot(da[..., 0], da[..., 1]) - np.hypot(db[..., 0], db[..., 1]))
    d2 = np.abs(angle_diff(angle_diff(ta[:, None], ta[None, :]), angle_diff(tb[:, None], tb[None, :])))
    radial_a = angle_diff(ta[:, None], np.arctan2(da[..., 1], da[..., 0]))
    radial_b = angle_diff(tb[:, None], np.arctan2(db[..., 1], db[..., 0]))
    d3 = np.abs(angle_diff(radial_a, radial_b))
    rho = _sigmoid(d1, MU_1, TAU_1) * _sigmoid(d2, MU_2, TAU_2) * _sigmoid(d3, MU_3, TAU_3)
    np.fill_diagonal(rho, 0.0)
    return rho
