"""How far apart this matcher puts employees and strangers on each kind of print, whatever the calibration: FNIR at
thresholds read from the kind's *own* strangers (the best any table or self-check could do), for one placement of
the finger and for two.

Usage: python benchmarks/fingerprint_separation.py [--fingers 140] [--split reporting|fresh] [KIND ...]
(default: every kind, held-out ones included; the searches are dakoku_core.fingerprint.open_set.kind_run's, cached).

Protocol (the open-set protocol of benchmarks/fingerprint_identify_kinds.py): the first half of the fingers enrol
from captures 0-3, captures 4 and 5 of an enrolled finger are its genuine searches, every capture of the other half
a stranger's search; each search's per-finger level is the identify path's stage 1 (fused sub-templates).

- One placement: a stranger's (capture, enrolled finger) levels give the per-finger false match rate; the threshold
  for a rate p is read from them (empirical while 30 of them lie beyond it, then the maximum-likelihood exponential
  tail of the top 1 %, a point estimate: no safety margin). A genuine search is missed when its own finger is below
  it or another finger reaches it (no top-two margin, and only the set's own rivals: both in the employees' favour).
- Two placements: the kiosk asks for the finger a second time and both captures must name the same finger; a
  finger's level is the lower of its two levels. Strangers' pairs are captures (0, 1), (2, 3), (4, 5) of each
  stranger finger; the genuine pair is captures 4 and 5.

``--gallery-pairs``: also what the kiosk could learn of these tails from its own gallery (the self-check's sample):
each enrolled finger's sub-templates searched against every other enrolled finger, one at a time and in pairs of
two sub-templates, their thresholds beside the strangers' (``separation_gallery_<one|two>_<rate>_<kind>``), and how
often strangers' real pairs reach the gallery's pair threshold (``separation_gallery_two_observed_*``).

Per-finger rates 1e-4 ... 1e-7 are what N = 10 ... 10,000 enrolled fingers need for an FPIR of 0.1 % (p = 0.001 / N).
Printed per kind (``name: value unit``): ``separation_fnir_one_n<N>`` and ``separation_fnir_two_n<N>``, and
``separation_repeat_<kind>``: of the strangers' pairs, how many reach the one-placement 1e-3 threshold with both
captures, against that rate squared (two captures of one stranger finger would be independent) and the rate itself
(they would always agree).
"""
from __future__ import annotations

import argparse
import itertools
import os
import sys
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from dakoku_core.fingerprint import Gallery, Matcher  # noqa: E402
from dakoku_core.fingerprint.calibration import fit_tail, raw_at  # noqa: E402
from dakoku_core.fingerprint.identify import FingerprintIdentifier  # noqa: E402
from dakoku_core.fingerprint.identify_calibration import fuse, identify_calibration  # noqa: E402
from dakoku_core.fingerprint.open_set import ENROL_CAPTURES, SearchRun, enrol_half, kind_run  # noqa: E402
from dakoku_core.fingerprint.synth import kinds as kind_data  # noqa: E402
from dakoku_core.fingerprint.synth.kinds import kind_templates  # noqa: E402

CAPTURES = 6
STRANGER_PAIRS = ((0, 1), (2, 3), (4, 5))
SIZES = (10, 100, 1_000, 10_000)
FPIR = 1e-3


def fused(candidates, cal) -> dict[str, float]:
    """One search's stage-1 level per employee key among its candidates (key, raw, pairs), sub-templates fused as
    the identify path fuses them."""
    levels: dict[str, list[float]] = {}
    for key, raw, pairs in candidates:
        levels.setdefault(key, []).append(cal.comparison(raw, pairs))
    return {key: fuse(values) for key, values in levels.items()}


def finger_levels(run: SearchRun) -> list[dict[str, float]]:
    """Each search's stage-1 level per enrolled finger among its candidates (a finger not among them: absent, 0)."""
    cal = identify_calibration()
    return [fused(search.candidates, cal) for search in run.searches]


def split_searches(run: SearchRun, fingers: int) -> tuple[dict[str, list[dict]], list[list[dict]]]:
    """The searches in the protocol's order: per enrolled finger its genuine captures, per stranger finger all six."""
    levels = finger_levels(run)
    genuine, strangers, i = {}, [], 0
    genuine_captures = CAPTURES - ENROL_CAPTURES
    for f in range(fingers):
        if f < fingers // 2:
            genuine[f"f{f}"] = levels[i:i + genuine_captures]
            i += genuine_captures
        else:
            strangers.append(levels[i:i + CAPTURES])
            i += CAPTURES
    assert i == len(levels), "the searches are not in the protocol's order"
    return genuine, strangers


def gallery_levels(gallery: Gallery, matcher: Matcher) -> dict[str, list[dict[str, float]]]:
    """Per enrolled finger, each of its sub-templates' stage-1 levels per *other* enrolled finger (the self-check's
    searches, every sub-template)."""
    cal = identify_calibration()
    identifier = FingerprintIdentifier(gallery, matcher)
    out: dict[str, list[dict[str, float]]] = {}
    for probe in gallery.entries:
        others = [(entry.employee_key, raw, pairs) for entry, raw, pairs in
                  identifier.candidate_scores(probe.code, gallery) if entry.employee_key != probe.employee_key]
        out.setdefault(probe.employee_key, []).append(fused(others, cal))
    return out


def gallery_tails(kind: str, split: str, fingers: int) -> tuple[np.ndarray, np.ndarray]:
    """The gallery's own levels against other enrolled fingers: one sub-template at a time, and two of one finger."""
    matcher = Matcher()
    entries, _failed = enrol_half(kind_templates(kind, split, fingers), matcher)
    own = gallery_levels(Gallery(entries), matcher)
    keys = sorted(own)
    one = [d.get(k, 0.0) for a, subs in own.items() for d in subs for k in keys if k != a]
    two = [both(d1, d2, k) for a, subs in own.items() for d1, d2 in itertools.combinations(subs, 2)
           for k in keys if k != a]
    return np.array(one), np.array(two)


def both(first: dict[str, float], second: dict[str, float], key: str) -> float:
    return min(first.get(key, 0.0), second.get(key, 0.0))


def threshold(impostor: np.ndarray, fmr: float) -> float:
    return float(raw_at(fit_tail(impostor, z=0.0), -10.0 * np.log10(fmr)))


def missed(own: np.ndarray, rival: np.ndarray, t: float) -> float:
    return float(np.mean((own < t) | (rival >= t)))


def report(kind: str, split: str, fingers: int, gallery_pairs: bool = False) -> None:
    run = kind_run(kind, split, fingers)
    keys = sorted(run.keys)
    genuine, strangers = split_searches(run, fingers)
    one_imp = np.array([d.get(k, 0.0) for captures in strangers for d in captures for k in keys])
    two_imp = np.array([both(c[a], c[b], k) for c in strangers for a, b in STRANGER_PAIRS for k in keys])
    one_own, one_rival, two_own, two_rival = [], [], [], []
    for key, captures in genuine.items():
        first, second = captures[:2]
        enrolled = key in run.keys          # a failed enrolment misses every time
        for d in (first, second):
            one_own.append(d.get(key, 0.0) if enrolled else -1.0)
            one_rival.append(max((v for k, v in d.items() if k != key), default=0.0))
        two_own.append(both(first, second, key) if enrolled else -1.0)
        two_rival.append(max((both(first, second, k) for k in keys if k != key), default=0.0))
    one_own, one_rival, two_own, two_rival = map(np.array, (one_own, one_rival, two_own, two_rival))
    print(f"# {kind} ({split}, {fingers} fingers): {len(keys)} enrolled, {run.enrolment_failed} failed; "
          f"{len(one_imp)} one-placement and {len(two_imp)} two-placement strangers' levels; "
          f"{len(one_own)} / {len(two_own)} genuine")
    for n in SIZES:
        p = FPIR / n
        t1, t2 = threshold(one_imp, p), threshold(two_imp, p)
        print(f"separation_fnir_one_n{n}_{kind}: {100 * missed(one_own, one_rival, t1):.1f} % "
              f"(stage-1 level {t1:.1f} for {p:.0e} per finger)")
        print(f"separation_fnir_two_n{n}_{kind}: {100 * missed(two_own, two_rival, t2):.1f} % "
              f"(stage-1 level {t2:.1f})")
    if gallery_pairs:
        own_one, own_two = gallery_tails(kind, split, fingers)
        for p in (1e-4, 1e-5, 1e-6, 1e-7):
            t_own = threshold(own_two, p)
            print(f"separation_gallery_one_{p:.0e}_{kind}: {threshold(own_one, p):.1f} level "
                  f"(strangers {threshold(one_imp, p):.1f}; {len(own_one)} gallery levels)")
            print(f"separation_gallery_two_{p:.0e}_{kind}: {t_own:.1f} level "
                  f"(strangers {threshold(two_imp, p):.1f}; {len(own_two)} gallery pairs)")
            print(f"separation_gallery_two_observed_{p:.0e}_{kind}: {float(np.mean(two_imp >= t_own)):.1e} "
                  f"of strangers' pairs at the gallery's threshold")
    t = threshold(one_imp, 1e-3)
    rate = float(np.mean(one_imp >= t))
    print(f"separation_repeat_{kind}: {int(np.sum(two_imp >= t))} of {len(two_imp)} count "
          f"(independent: {rate * rate * len(two_imp):.2f}, always together: {rate * len(two_imp):.1f})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--fingers", type=int, default=140)
    parser.add_argument("--split", choices=("reporting", "fresh"), default="reporting")
    parser.add_argument("--gallery-pairs", action="store_true")
    parser.add_argument("kinds", nargs="*")
    args = parser.parse_args()
    for kind in args.kinds or list(kind_data.KINDS) + list(kind_data.HELD_OUT):
        report(kind, args.split, args.fingers, args.gallery_pairs)
        sys.stdout.flush()


if __name__ == "__main__":
    main()
