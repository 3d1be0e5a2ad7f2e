"""Open-set identification per kind of data, on REPORTING seeds the identify calibration never saw.

Usage: python benchmarks/fingerprint_identify_kinds.py [--fingers 120] [--split reporting|fresh|tuning]
       [--templates 1|2] [--table FILE] [--self-check] [KIND ...]

``--split fresh``: REPORTING seeds from finger 1,000 on, never generated before the seventh look; without KIND
it then also reports the held-out kinds, which no calibration has seen in any split. ``--templates``: which
extraction made the templates (1 raw, 2 enhanced; default the kiosk's own, ``synth.kinds.KINDS_VERSION``).
``--self-check``: the kiosk's rule includes the gallery's own strangers' tail (dakoku_core.fingerprint.self_check),
fitted on the set's enrolled fingers searched with their own sub-templates (never on its strangers' searches);
it prints ``self_check_pairs``, ``self_check_look_alike`` and how many dB it adds at N = 1,000 / 10,000.

For each kind (dakoku_core.fingerprint.synth.kinds): half the fingers enrol from 4 captures, their other impressions
are genuine searches, every impression of the other half a stranger's search, all through the identify path
(dakoku_core.fingerprint.open_set). Printed per kind (``name: value unit`` lines):

- ``fpir_n<N>``/``fnir_n<N>`` with the kiosk's rule for N enrolled fingers (threshold 30 + 10 log10 N and the
  top-two margin, ``Thresholds.identify_margin``): observed at the set's own N (strangers taken for someone;
  genuine searches not answered with their own finger); for N = 1,000 and 10,000 FPIR predicted from this kind's
  own tail (its per-finger false match rates: empirical down to where 300 pairs lie beyond, at most the top 1 %,
  beyond it the maximum-likelihood exponential tail, no confidence margin; the best of N strangers at the
  threshold and the margin above the second) and FNIR
  with the rivals the set lacks (N minus its enrolled fingers) drawn from that tail; ``fnir_enrolled_n<N>`` the
  same FNIR over the searches of fingers whose enrolment succeeded (failure to enrol is printed on its own
  line); ``*_nomargin_*`` the same without the margin (FPIR predicted as 1 - (1 - p)^N, FNIR observed at that
  N's threshold in the set);
- ``fmr_predicted_vs_observed_<L>db``: the per-finger false match rate the table promises at L dB against the one
  observed (up to the resolution limit, 3 / impostor pairs);
- the resolution limit itself;
- ``strangers_at_n1000_threshold``: stranger searches at or above the N = 1,000 threshold in this small set (a
  calibrated set of about 60 fingers shows one in about 50 sets), and ``max_stranger_db``, the highest stranger's
  search on the per-finger scale.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from dakoku_core.fingerprint.calibration import fit_tail, raw_at  # noqa: E402
from dakoku_core.fingerprint.calibration import Calibration  # noqa: E402
from dakoku_core.fingerprint.identify_calibration import IdentifyCalibration, identify_calibration  # noqa: E402
from dakoku_core.fingerprint.open_set import OpenSetScores, kind_run, summarise  # noqa: E402
from dakoku_core.fingerprint.self_check import TAIL_POINTS, SelfCheck, self_check  # noqa: E402
from dakoku_core.fingerprint.policy import Thresholds  # noqa: E402
from dakoku_core.fingerprint.synth import kinds as kind_data  # noqa: E402

SIZES = (1_000, 10_000)
LEVELS_DB = (20, 30, 40)


def fnir(scores: OpenSetScores, raw_threshold: float, enrolled_only: bool = False) -> float:
    """Genuine searches not answered with their own finger: below the threshold, or a rival above it too (a
    finger whose enrolment failed always misses; ``enrolled_only`` leaves those searches out, ISO/IEC 19795-1's
    FNIR beside the failure-to-enrol rate). Without the top-two margin."""
    missed = (scores.genuine < raw_threshold) | (scores.rival >= raw_threshold)
    if enrolled_only:
        missed = missed[scores.genuine_enrolled]
    return float(np.mean(missed))


def fnir_margin(scores: OpenSetScores, cal, level_db: float, margin_db: float, size: int, own_tail,
                enrolled_only: bool = False) -> float:
    """The kiosk's rule at ``size`` enrolled fingers: own finger at or above the threshold, every other below it
    (else ambiguous) and ``margin_db`` below the own one. The set's own rivals (its enrolled fingers) must pass, and
    for a ``size`` beyond the set's the ``size`` - set rivals it lacks are drawn from this kind's strangers' tail
    (each below that level with probability 1 - p_own): the expected miss rate; at the set's own size, observed."""
    t = float(raw_at(cal, level_db))
    g_db = cal(scores.genuine)
    r_db = cal(scores.rival)
    ceiling = np.minimum(g_db - margin_db, level_db)
    ok = (scores.genuine >= t) & (r_db < ceiling)
    below = raw_at(cal, np.maximum(ceiling, 0.0))
    p = 10 ** (-np.asarray(own_tail(below), dtype=np.float64) / 10)
    accept = np.where(ok, (1 - np.clip(p, 0, 1)) ** max(size - scores.enrolled, 0), 0.0)
    missed = 1 - accept
    if enrolled_only:
        missed = missed[scores.genuine_enrolled]
    return float(np.mean(missed))


def fpir_margin_predicted(cal, level_db: float, margin_db: float, size: int, own_tail) -> float:
    """P(the best of ``size`` strangers' finger scores reaches ``level_db``, the second stays below it (else the
    kiosk answers "ambiguous") and below the best minus ``margin_db``), the finger scores drawn from this kind's own
    tail: the sum over the best one's level x of size * P(x) * (1 - p_own(min(x - margin, level)))^(size - 1)."""
    levels = np.arange(level_db, 200.0, 0.05)
    raw = raw_at(cal, levels)
    p = 10 ** (-np.asarray(own_tail(raw), dtype=np.float64) / 10)
    mass = np.clip(p - np.append(p[1:], 0.0), 0, None)
    ceiling = np.maximum(np.minimum(levels - margin_db, level_db), 0.0)
    below = 10 ** (-np.asarray(own_tail(raw_at(cal, ceiling)), dtype=np.float64) / 10)
    return float(np.sum(size * mass * (1 - np.clip(below, 0, 1)) ** (size - 1)))


def accepted(scores: OpenSetScores, raw_threshold: float, top_db, second_db, margin_db: float) -> np.ndarray:
    """Strangers' searches the kiosk answers with someone: the best at or above the threshold, the second below it
    and ``margin_db`` below the best."""
    return ((scores.impostor_top >= raw_threshold) & (scores.impostor_second < raw_threshold)
            & (top_db - second_db >= margin_db))


def load_table(path: Path) -> IdentifyCalibration:
    """An identify calibration from a table file like ``identify_table.py`` (an earlier commit's, say)."""
    import importlib.util
    spec = importlib.util.spec_from_file_location("identify_table_under_test", path)
    t = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(t)
    return IdentifyCalibration(tuple(Calibration(*table) for table in t.BY_PAIRS),
                               Calibration(t.FINGER_RAW, t.FINGER_CALIBRATED, t.FINGER_TAIL_SLOPE))


def report_kind(name: str, scores: OpenSetScores, thresholds: Thresholds,
                calibration: IdentifyCalibration | None = None) -> dict[str, float]:
    cal = (calibration or identify_calibration()).finger          # finger dB -> the stage-1 score needed
    # this kind's own point estimate, read empirically as deep as 300 pairs beyond (never above the top 1 %), as the
    # self-check does since the ninth look: an exponential from the top 1 % under-read heavier deep tails
    own_tail = fit_tail(scores.impostor_pairs, tail_fraction=min(0.01, TAIL_POINTS / len(scores.impostor_pairs)),
                        z=0.0)
    margin = thresholds.identify_margin
    out: dict[str, float] = {}
    n = scores.enrolled
    t = float(raw_at(cal, thresholds.identify(n)))
    top_db, second_db = cal(scores.impostor_top), cal(scores.impostor_second)
    out[f"fpir_n{n}"] = float(np.mean(accepted(scores, t, top_db, second_db, margin)))
    out[f"fpir_nomargin_n{n}"] = float(np.mean(scores.impostor_top >= t))
    out[f"fnir_n{n}"] = fnir_margin(scores, cal, thresholds.identify(n), margin, n, own_tail)
    out[f"fnir_nomargin_n{n}"] = fnir(scores, t)
    for size in SIZES:
        t = float(raw_at(cal, thresholds.identify(size)))
        p = 10 ** (-float(own_tail(t)) / 10)
        out[f"fpir_predicted_n{size}"] = fpir_margin_predicted(cal, thresholds.identify(size), margin, size, own_tail)
        out[f"fpir_predicted_nomargin_n{size}"] = 1 - (1 - p) ** size
        out[f"fnir_n{size}"] = fnir_margin(scores, cal, thresholds.identify(size), margin, size, own_tail)
        out[f"fnir_enrolled_n{size}"] = fnir_margin(scores, cal, thresholds.identify(size), margin, size, own_tail,
                                                    enrolled_only=True)
        out[f"fnir_nomargin_n{size}"] = fnir(scores, t)
    for level in LEVELS_DB:
        out[f"fmr_predicted_{level}db"] = 10 ** (-level / 10)
        out[f"fmr_observed_{level}db"] = scores.per_finger_fmr(float(raw_at(cal, level)))
    out["resolution_fmr"] = 3 / len(scores.impostor_pairs)
    t1000 = float(raw_at(cal, thresholds.identify(SIZES[0])))
    out["strangers_at_n1000_threshold"] = float(np.sum(accepted(scores, t1000, top_db, second_db, margin)))
    out["strangers_at_n1000_threshold_nomargin"] = float(np.sum(scores.impostor_top >= t1000))
    out["max_stranger_db"] = float(top_db.max()) if len(top_db) else 0.0
    out["max_stranger_margin_db"] = float((top_db - second_db).max()) if len(top_db) else 0.0
    print(f"kind: {name}")
    print(f"{name}_enrolled: {n} fingers ({scores.enrolment_failed} enrolment failed)")
    print(f"{name}_searches: {len(scores.genuine)} genuine, {len(scores.impostor_top)} stranger count")
    print(f"{name}_impostor_pairs: {len(scores.impostor_pairs)} count")
    for key, value in out.items():
        if key.startswith("strangers_at"):
            print(f"{name}_{key}: {value:.0f} count")
        elif key.startswith("max_stranger"):
            print(f"{name}_{key}: {value:.1f} dB")
        elif key.startswith(("fmr_", "resolution")):
            print(f"{name}_{key}: {value:.2e} rate")
        else:
            print(f"{name}_{key}: {100 * value:.3f} %")
    return out


def gallery_check(kind: str, split: str, fingers: int, calibration: IdentifyCalibration) -> SelfCheck | None:
    """The self-check of the set's own gallery: its enrolled half, as :func:`open_set.run_searches` enrols it."""
    from dakoku_core.fingerprint.gallery import Gallery
    from dakoku_core.fingerprint.identify import FingerprintIdentifier
    from dakoku_core.fingerprint.matcher import Matcher
    from dakoku_core.fingerprint.open_set import enrol_half
    matcher = Matcher()
    entries, _failed = enrol_half(kind_data.kind_templates(kind, split, fingers), matcher)
    return self_check(FingerprintIdentifier(Gallery(entries), matcher, calibration=calibration))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("kinds", nargs="*")
    parser.add_argument("--fingers", type=int, default=120)
    parser.add_argument("--split", choices=("reporting", "fresh", "tuning"), default="reporting")
    parser.add_argument("--templates", type=int, choices=(1, 2), default=kind_data.KINDS_VERSION)
    parser.add_argument("--table", type=Path, help="an identify table file to use instead of the one in force "
                        "(e.g. git show b3fd6fb:dakoku_core/fingerprint/identify_table.py > t.py)")
    parser.add_argument("--self-check", action="store_true", help="the gallery's own strangers' tail as well")
    args = parser.parse_args()
    calibration = load_table(args.table) if args.table else identify_calibration()
    kind_data.KINDS_VERSION = args.templates
    kinds = args.kinds or sorted(kind_data.KINDS) + (sorted(kind_data.HELD_OUT) if args.split == "fresh" else [])
    thresholds = Thresholds()
    print(f"split: {args.split} count")
    print(f"templates: version {args.templates} count")
    print(f"self_check: {int(args.self_check)} count")
    for kind in kinds:
        t0 = time.perf_counter()
        rule = calibration
        if args.self_check:
            check = gallery_check(kind, args.split, args.fingers, calibration)
            if check is not None:
                rule = check.applied_to(calibration)
                print(f"{kind}_self_check_pairs: {check.pairs} count")
                print(f"{kind}_self_check_look_alike: {check.look_alike} count")
                for size in SIZES:
                    print(f"{kind}_self_check_adds_n{size}: "
                          f"{check.raises(calibration, thresholds.identify(size)):.1f} dB")
        report_kind(kind, summarise(kind_run(kind, args.split, args.fingers), rule.comparison), thresholds, rule)
        print(f"{kind}_seconds: {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
