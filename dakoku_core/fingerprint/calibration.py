"""Score calibration: raw LSS-R scores to -10 * log10(FMR), so that thresholds mean a false match rate.

The table in :mod:`dakoku_core.fingerprint.calibration_table` was measured on the TUNING seed range's impostor
distribution (``python -m dakoku_core.fingerprint.tuning --write`` rebuilds it; it never looks at REPORTING seeds). Up to the
resolution limit of that sample the mapping is the empirical impostor tail; beyond it the log-FMR is extrapolated
linearly from the upper tail (an exponential tail model), and capped at ``MAX_SCORE``.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MAX_SCORE = 200.0


@dataclass(frozen=True)
class Calibration:
    raw: tuple[float, ...]          # increasing raw scores
    calibrated: tuple[float, ...]   # -10 log10(FMR) at those raw scores (increasing)
    tail_slope: float               # calibrated points per raw unit beyond the last knot

    def __call__(self, raw: float | np.ndarray) -> float | np.ndarray:
        r = np.asarray(raw, dtype=np.float64)
        inside = np.interp(r, self.raw, self.calibrated)
        beyond = self.calibrated[-1] + self.tail_slope * (r - self.raw[-1])
        out = np.minimum(np.where(r > self.raw[-1], beyond, inside), MAX_SCORE)
        return float(out) if np.ndim(out) == 0 else out

    def fmr(self, score: float) -> float:
        return 10.0 ** (-score / 10.0)


def fit(impostor: np.ndarray, step_db: float = 1.0, tail_from_db: float = 15.0) -> Calibration:
    """Build a calibration from impostor raw scores (higher = more similar)."""
    imp = np.sort(np.asarray(impostor, dtype=np.float64))
    n = len(imp)
    limit_db = -10.0 * np.log10(3.0 / n)                 # rule of three: the last supported FMR
    levels = np.arange(0.0, limit_db + 1e-9, step_db)
    raw = np.quantile(imp, 1.0 - 10.0 ** (-levels / 10.0), method="higher")
    raw[0] = min(raw[0], 0.0)
    raw = np.maximum.accumulate(raw)
    keep = np.concatenate([[True], np.diff(raw) > 1e-9])  # strictly increasing knots
    raw, levels = raw[keep], levels[keep]
    tail = levels >= min(tail_from_db, levels[-1] - step_db)
    slope = float(np.polyfit(raw[tail], levels[tail], 1)[0]) if tail.sum() >= 2 else 100.0 / max(raw[-1], 1e-6)
    return Calibration(tuple(float(x) for x in raw), tuple(float(x) for x in levels), max(slope, 1e-3))


def default_calibration() -> Calibration:
    from dakoku_core.fingerprint import calibration_table as table
    return Calibration(table.RAW, table.CALIBRATED, table.TAIL_SLOPE)


def raw_at(cal: Calibration, level: float | np.ndarray) -> np.ndarray:
    """The inverse: the raw score at which ``cal`` gives ``level`` (extrapolated along the tail)."""
    lv = np.asarray(level, dtype=np.float64)
    inside = np.interp(lv, cal.calibrated, cal.raw)
    return np.where(lv > cal.calibrated[-1], cal.raw[-1] + (lv - cal.calibrated[-1]) / cal.tail_slope, inside)


def worst_of(calibrations: list[Calibration], top_db: float = 100.0, step_db: float = 1.0) -> Calibration:
    """The pointwise most pessimistic of several calibrations: at every level, the highest raw score any of them
    needs for it (each one extrapolated along its own tail), out to ``top_db``."""
    levels = np.arange(0.0, top_db + 1e-9, step_db)
    raw = np.max([raw_at(c, levels) for c in calibrations], axis=0)
    raw = np.maximum.accumulate(raw)
    keep = np.concatenate([[True], np.diff(raw) > 1e-12])
    raw, levels = raw[keep], levels[keep]
    slope = float((levels[-1] - levels[-2]) / (raw[-1] - raw[-2]))
    return Calibration(tuple(float(x) for x in raw), tuple(float(x) for x in levels), slope)


def with_margin(cal: Calibration, margin_db: float) -> Calibration:
    """``cal`` promising ``margin_db`` dB less at every raw score: a threshold of L dB then needs what ``cal``
    needed for L + margin_db (scores below ``cal``'s margin_db level map to 0)."""
    if margin_db <= 0:
        return cal
    levels = np.array(cal.calibrated)
    keep = levels > margin_db
    raw = (float(raw_at(cal, margin_db)),) + tuple(float(x) for x in np.array(cal.raw)[keep])
    return Calibration(raw, (0.0,) + tuple(float(x) for x in levels[keep] - margin_db), cal.tail_slope)


def fit_tail(impostor: np.ndarray, tail_fraction: float = 0.01, z: float = 1.645) -> Calibration:
    """Like :func:`fit`, but everything beyond the top ``tail_fraction`` follows an exponential tail whose scale is
    the maximum-likelihood mean excess raised to its one-sided upper confidence bound (``z`` = 1.645: 95 %).

    For extrapolating three orders of magnitude past the data a point estimate is not enough: on the identify path
    two seed sets of one kind gave tails 10 dB apart at FMR 1e-6 with point estimates."""
    imp = np.sort(np.asarray(impostor, dtype=np.float64))
    start_db = -10.0 * np.log10(tail_fraction)
    body = fit(imp)
    u = float(np.quantile(imp, 1.0 - tail_fraction, method="higher"))
    excess = imp[imp > u] - u
    k = len(excess)
    if k < 10 or excess.mean() <= 0:
        return body
    beta = float(excess.mean()) * k / max(k - z * np.sqrt(k), 1.0)
    keep = np.array(body.calibrated) < start_db
    raw = tuple(float(x) for x in np.array(body.raw)[keep]) + (u,)
    levels = tuple(float(x) for x in np.array(body.calibrated)[keep]) + (start_db,)
    return Calibration(raw, levels, 10.0 * np.log10(np.e) / beta)
