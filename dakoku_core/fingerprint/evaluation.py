"""FVC protocol figures: genuine and impostor pairs, EER, FNMR at fixed FMR, resolution limit.

FVC (Maio et al.): genuine attempts compare every two impressions of a finger; impostor attempts compare the
first impression of every two different fingers. With n impostor attempts no FMR below about 3/n is supported.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np


Pair = tuple[int, int, int, int]


def fvc_pairs(fingers: int, impressions: int) -> tuple[list[Pair], list[Pair]]:
    """(finger, impression, finger, impression) pairs: genuine then impostor, FVC protocol."""
    genuine = [(f, i, f, j) for f in range(fingers) for i in range(impressions) for j in range(i + 1, impressions)]
    impostor = [(f, 0, g, 0) for f in range(fingers) for g in range(f + 1, fingers)]
    return genuine, impostor


@dataclass(frozen=True)
class ErrorRates:
    eer: float
    fnmr_at_fmr_1pct: float
    fnmr_at_fmr_01pct: float
    fnmr_at_fmr_0: float
    genuine: int
    impostor: int

    @property
    def resolution_fmr(self) -> float:
        """The smallest FMR these impostor attempts can support (rule of three)."""
        return 3.0 / max(self.impostor, 1)


def fnmr_at_fmr(genuine: np.ndarray, impostor: np.ndarray, fmr: float) -> float:
    """The lowest FNMR over thresholds whose FMR is at most ``fmr`` (scores: higher is more similar)."""
    thresholds = np.unique(np.concatenate([impostor, genuine, [np.inf]]))
    imp_sorted = np.sort(impostor)
    fmrs = 1.0 - np.searchsorted(imp_sorted, thresholds, side="left") / len(impostor)
    ok = thresholds[fmrs <= fmr]
    t = ok.min()
    return float(np.mean(genuine < t))


def equal_error_rate(genuine: np.ndarray, impostor: np.ndarray) -> float:
    thresholds = np.unique(np.concatenate([impostor, genuine, [np.inf]]))
    fmr = 1.0 - np.searchsorted(np.sort(impostor), thresholds, side="left") / len(impostor)
    fnmr = np.searchsorted(np.sort(genuine), thresholds, side="left") / len(genuine)
    i = int(np.argmin(np.abs(fmr - fnmr)))
    # FVC: the EER lies between the FMR and FNMR curves where they cross.
    lo = max(i - 1, 0)
    candidates = [(max(fmr[k], fnmr[k]), min(fmr[k], fnmr[k])) for k in (lo, i, min(i + 1, len(fmr) - 1))]
    hi_val, lo_val = min(candidates)
    return float((hi_val + lo_val) / 2)


def error_rates(genuine: Sequence[float], impostor: Sequence[float]) -> ErrorRates:
    g = np.asarray(genuine, dtype=np.float64)
    i = np.asarray(impostor, dtype=np.float64)
    return ErrorRates(equal_error_rate(g, i), fnmr_at_fmr(g, i, 0.01), fnmr_at_fmr(g, i, 0.001),
                      fnmr_at_fmr(g, i, 0.0), len(g), len(i))


def score_pairs(pairs: Sequence[Pair], compare: Callable[[object, object], float],
                items: Sequence[Sequence[object]], failed: float = -1.0) -> np.ndarray:
    """Score each pair with ``compare``; a pair with a failed-to-enrol side (None) gets ``failed``."""
    out = np.empty(len(pairs))
    for k, (f, i, g, j) in enumerate(pairs):
        a, b = items[f][i], items[g][j]
        out[k] = failed if a is None or b is None else compare(a, b)
    return out
