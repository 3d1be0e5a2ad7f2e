"""The identify path's own calibration, in two stages, fitted on several kinds of data.

1. **Per comparison, by template size.** LSS-R averages the ``nP`` best relaxed pairs, and ``nP`` grows with the
   smaller template (:func:`relaxation.pair_count`, 4 to 12): strangers' scores on small (partial) prints spread
   far wider than on full ones, so one table for all sizes is wrong for both. Each group of ``nP`` gets its own
   table (raw score -> -10 log10 FMR per comparison), fitted on the pooled impostor comparisons of the identify
   path (prefilter candidates of consolidated enrolments) of every kind's TUNING seeds.
2. **Per enrolled finger.** The best stage-1 score over a finger's sub-templates among the candidates ->
   -10 log10(false match rate per enrolled finger), fitted per kind (empirical up to FMR 1 %, beyond it an
   exponential tail at the 95 % upper confidence bound of its scale, :func:`calibration.fit_tail`) and kept, at
   every level, at the highest score any kind needs (:func:`calibration.worst_of`): the thresholds are fitted
   against the worst kind.

Only TUNING seeds are read (:mod:`dakoku_core.fingerprint.synth.kinds`); ``python -m dakoku_core.fingerprint.identify_calibration
--write`` rebuilds :mod:`dakoku_core.fingerprint.identify_table`.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from dakoku_core.fingerprint.calibration import Calibration, fit, fit_tail, with_margin, worst_of

TUNING_FINGERS = 120
# Strangers per kind beyond the protocol's 60 (fingers 120.. of the kind's TUNING range, searched against the same
# 60 enrolled fingers), and dB asked of stage 2 beyond worst_of: both chosen on TUNING by two-fold
# cross-validation of the extra strangers (the smallest margin whose worse fold predicts at most a third of 0.1 %)
# in the sixth look, in force since the seventh (docs/fingerprint.md).
TUNING_STRANGERS: dict[str, int] = {"dry_wet_coarse": 460, "fine_distorted": 460}
SAFETY_DB = 6.0
PAIR_GROUPS = ((4, 6), (7, 9), (10, 11), (12, 12))     # nP ranges, one stage-1 table each
MIN_GROUP_SAMPLES = 2000  # a stage-1 table of fewer impostor comparisons borrows those of smaller templates
SECOND_WEIGHT = 0.2     # TUNING (0 to 1 tried): a finger's score = best + 0.2 x second-best sub-template


def fuse(levels: list[float]) -> float:
    """A finger's stage-1 score from its sub-templates' among the candidates: the best plus a little of the
    second. A genuine probe usually matches two captures of its finger, a stranger's spike rarely two."""
    top = sorted(levels, reverse=True)[:2] + [0.0]
    return top[0] + SECOND_WEIGHT * top[1]


def pair_group(pairs: int) -> int:
    return next((k for k, (lo, hi) in enumerate(PAIR_GROUPS) if pairs <= hi), len(PAIR_GROUPS) - 1)


@dataclass(frozen=True)
class IdentifyCalibration:
    by_pairs: tuple[Calibration, ...]     # stage 1, one per PAIR_GROUPS
    finger: Calibration                   # stage 2

    def comparison(self, raw: float, pairs: int) -> float:
        """Stage 1: -10 log10 FMR of one comparison of this raw score whose global score averaged ``pairs``."""
        return float(self.by_pairs[pair_group(pairs)](raw))

    def __call__(self, level: float) -> float:
        """Stage 2: a finger's best stage-1 score -> -10 log10 FMR per enrolled finger."""
        return float(self.finger(level))


@lru_cache(maxsize=1)
def identify_calibration() -> IdentifyCalibration:
    from dakoku_core.fingerprint import identify_table as t
    groups = tuple(Calibration(*table) for table in t.BY_PAIRS)
    return IdentifyCalibration(groups, Calibration(t.FINGER_RAW, t.FINGER_CALIBRATED, t.FINGER_TAIL_SLOPE))


def fit_stage1(raw: np.ndarray, pairs: np.ndarray) -> tuple[Calibration, ...]:
    """One table per group of nP; a group with fewer than MIN_GROUP_SAMPLES impostor comparisons is fitted on
    its own plus those of every group of smaller templates (heavier tails: the cautious side). On TUNING the
    10-11 group had 18 comparisons: its own table put raw 0.023 at 200 dB, and a stranger got through."""
    groups = np.array([pair_group(int(p)) for p in pairs])
    tables = []
    for k in range(len(PAIR_GROUPS)):
        own = groups == k
        tables.append(fit(raw[own] if own.sum() >= MIN_GROUP_SAMPLES else raw[groups <= k]))
    return tuple(tables)


def fit_kinds(kinds: list[str], fingers: int = TUNING_FINGERS):
    """(IdentifyCalibration, per-kind stage-2 fits) from the kinds' TUNING seeds."""
    from dakoku_core.fingerprint.open_set import kind_run
    half = fingers // 2
    return fit_runs({kind: kind_run(kind, "tuning", half + TUNING_STRANGERS.get(kind, half), enrolled=half)
                     for kind in kinds})


def fit_runs(runs: dict, margin_db: float | None = None):
    """(IdentifyCalibration, per-kind stage-2 fits) from each kind's :class:`open_set.SearchRun`."""
    from dakoku_core.fingerprint.open_set import summarise
    margin_db = SAFETY_DB if margin_db is None else margin_db
    raw, pairs = [], []
    for run in runs.values():
        for search in run.searches:
            for key, r, p in search.candidates:
                if key != search.own:
                    raw.append(r)
                    pairs.append(p)
    stage1 = fit_stage1(np.array(raw), np.array(pairs))
    partial = IdentifyCalibration(stage1, Calibration((0.0, 1.0), (0.0, 1.0), 1.0))
    per_kind = {kind: fit_tail(summarise(run, partial.comparison).impostor_pairs) for kind, run in runs.items()}
    return IdentifyCalibration(stage1, with_margin(worst_of(list(per_kind.values())), margin_db)), per_kind


def table_text(cal: IdentifyCalibration, kinds: list[str], fingers: int) -> str:
    groups = ",\n    ".join(repr((c.raw, c.calibrated, c.tail_slope)) for c in cal.by_pairs)
    f = cal.finger
    return (f'"""Generated by `python -m dakoku_core.fingerprint.identify_calibration --write` from the TUNING seeds of'
            f' {", ".join(kinds)} ({fingers} fingers x 6 impressions each, more strangers {TUNING_STRANGERS},'
            f' margin {SAFETY_DB} dB). Do not edit."""\n'
            f"BY_PAIRS = (\n    {groups},\n)\n"
            f"FINGER_RAW = {f.raw!r}\nFINGER_CALIBRATED = {f.calibrated!r}\nFINGER_TAIL_SLOPE = {f.tail_slope!r}\n")


def _main() -> None:  # pragma: no cover - a maintenance tool, run by hand
    import argparse
    from pathlib import Path

    from dakoku_core.fingerprint.calibration import raw_at
    from dakoku_core.fingerprint.synth.kinds import KINDS
    parser = argparse.ArgumentParser(description="Rebuild the identify calibration from every kind's TUNING seeds.")
    parser.add_argument("--fingers", type=int, default=TUNING_FINGERS)
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    kinds = sorted(KINDS)
    cal, per_kind = fit_kinds(kinds, args.fingers)
    for kind, c in per_kind.items():
        print(f"# {kind}: stage-1 dB needed for 30/60/70 dB per finger: {raw_at(c, [30, 60, 70]).round(1)}")
    text = table_text(cal, kinds, args.fingers)
    print(text)
    if args.write:
        Path(__file__).with_name("identify_table.py").write_text(text)


if __name__ == "__main__":  # pragma: no cover
    _main()
