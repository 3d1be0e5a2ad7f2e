"""The enrolment duplicate check on data it was not fitted on: how often a new employee's finger is refused as
already registered (「すでに登録済みの情報です。 重複して登録することはできません」, ``credential_duplicate``),
per kind of print, and how often the same finger enrolled again is found.

Usage: python benchmarks/fingerprint_duplicates.py [--fingers 140] [--detection-fingers 60]
       [--split reporting|fresh] [--scale pairwise|identify] [--duplicate-base 30] [KIND ...]
(default: every kind, held-out ones included; prints are dakoku_core.fingerprint.synth.kinds' cached templates).

Protocol, as a company enrols its employees one after the other: finger i (its first 4 captures consolidated, as at
the kiosk) is checked with ``enroll.duplicate_scores`` against the company gallery of fingers 0 .. i-1, each another
employee's, and then added. A comparison counts when its pairwise score (plain LSS-R, the 1:1 calibration; each new
sub-template's best against an enrolled finger's sub-templates among its prefilter candidates) reaches
``Thresholds().duplicate(N)`` = 30 + 10 log10(N sub-templates): on the kinds the 1:1 table was fitted on, about
0.1 % of a sub-template's searches of the gallery, so about 0.3 % of new fingers by the rule of one comparison.
Every duplicate found here is a false alarm: a manager told that a finger nobody enrolled is registered already.

Printed per kind (``name: value unit``), K of the M fingers checked against a gallery of at least one:
``duplicate_false_alarm_<kind>`` with the rule in force (``enroll.duplicate_agreement``: every new sub-template at
the threshold against one enrolled finger), ``..._one_<kind>`` with the rule until session 11 (any one of them),
``..._two_<kind>`` with two of them (considered, not adopted); ``..._second_half``: those checked against at least
half the set; the gallery's size; ``duplicate_margin_db_<kind>_max``: the best score against another employee's
finger minus the threshold.

True duplicates (``--detection-fingers``, 8 impressions a finger): each finger enrolled from captures 0-3, the
gallery filled with the set's other fingers up to ``--fingers`` (the false alarms' gallery size, so the same
threshold), then each enrolled again from captures 4-7 and checked against it: ``duplicate_found[_one]_<kind>`` (its own
finger found by each rule) and ``duplicate_found_as_own_<kind>`` (found, and the strongest duplicate is its own, so
an enrolment by the same employee is answered 「検出された認証データは「{name}({code})」に登録済みです」 with
their own name rather than as another employee's).

``--scale identify`` (considered in session 12, not in force): the same counts with each new sub-template searched
on the identify path's per-finger scale (table alone) at ``--duplicate-base`` + 10 log10(enrolled fingers)
(docs/fingerprint.md § False duplicates).
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from dakoku_core.errors import KioskError  # noqa: E402
from dakoku_core.fingerprint import EnrolledTemplate, Gallery, Matcher  # noqa: E402
from dakoku_core.fingerprint.enroll import consolidate, duplicate_agreement, duplicate_scores  # noqa: E402
from dakoku_core.fingerprint.open_set import ENROL_CAPTURES  # noqa: E402
from dakoku_core.fingerprint.policy import Thresholds  # noqa: E402
from dakoku_core.fingerprint.synth.kinds import HELD_OUT, KINDS, kind_templates  # noqa: E402


def identify_scale_scores(enrolment, gallery: Gallery, thresholds: Thresholds) -> dict:
    """``duplicate_scores`` on the identify path's scale (``--scale identify``, considered): each new sub-template
    searched as a punch is (prefilter, stage 1, a finger's sub-templates fused, stage 2 per enrolled finger, the
    table alone), a finger counting when it reaches ``Thresholds.duplicate_base`` + 10 log10(the gallery's enrolled
    fingers) on that scale."""
    from dakoku_core.fingerprint.identify import FingerprintIdentifier
    from dakoku_core.fingerprint.identify_calibration import fuse
    identifier = FingerprintIdentifier(gallery)
    cal = identifier.calibration
    threshold = THRESHOLD["identify"](thresholds, gallery)
    found: dict = {}
    for code in enrolment.codes:
        levels: dict = {}
        for entry, raw, pairs in identifier.candidate_scores(code, gallery):
            levels.setdefault((entry.employee_key, entry.finger), []).append(cal.comparison(raw, pairs))
        for key, values in levels.items():
            score = cal(fuse(values))
            if score >= threshold:
                count, best = found.get(key, (0, -np.inf))
                found[key] = (count + 1, max(best, score))
    return found


SCORES = {"pairwise": duplicate_scores, "identify": lambda e, g, _m, t: identify_scale_scores(e, g, t)}
THRESHOLD = {"pairwise": lambda t, g: t.duplicate(len(g)), "identify": lambda t, g: t.duplicate(g.pattern_count())}


def alarms_of(found: dict, needed: int, key: str | None = None) -> tuple[bool, bool]:
    """Whether any finger of ``found`` (duplicate_scores; with ``key``, only that employee's) is a duplicate by one
    sub-template at the threshold (the rule until session 11), and by ``needed`` of them."""
    counts = [count for (owner, _f), (count, _best) in found.items() if key is None or owner == key]
    return any(counts), any(c >= needed for c in counts)


def run(kind: str, split: str, fingers: int, matcher: Matcher, thresholds: Thresholds, scale: str = "pairwise") -> None:
    """False alarms: each finger checked against the gallery of the ones enrolled before it."""
    rows = kind_templates(kind, split, fingers)
    one, agreeing, two, halves, margins, failed = [], [], [], [], [], 0
    gallery = Gallery(())
    for f, row in enumerate(rows):
        try:
            enrolment = consolidate(row[:ENROL_CAPTURES], matcher)
        except KioskError:
            failed += 1
            continue
        if len(gallery):
            found = SCORES[scale](enrolment, gallery, matcher, thresholds)
            a, b = alarms_of(found, duplicate_agreement(enrolment))
            two.append(alarms_of(found, min(2, len(enrolment.codes)))[1])
            one.append(a)
            agreeing.append(b)
            halves.append(f >= fingers // 2)
            best = max((score for _count, score in found.values()), default=-np.inf)
            margins.append(best - THRESHOLD[scale](thresholds, gallery))
        gallery = gallery.changed((), [EnrolledTemplate(f"e{f}", 1, code) for code in enrolment.codes])
    one_a, agreeing_a, halves_a = np.array(one), np.array(agreeing), np.array(halves, dtype=bool)
    m = len(one_a)
    print(f"duplicate_false_alarm_one_{kind}: {int(one_a.sum())}/{m} count ({100 * one_a.mean():.1f} %)")
    print(f"duplicate_false_alarm_{kind}: {int(agreeing_a.sum())}/{m} count ({100 * agreeing_a.mean():.1f} %)")
    print(f"duplicate_false_alarm_two_{kind}: {sum(two)}/{m} count ({100 * sum(two) / m:.1f} %)")
    print(f"duplicate_false_alarm_one_{kind}_second_half: {int(one_a[halves_a].sum())}/{int(halves_a.sum())} count")
    print(f"duplicate_false_alarm_{kind}_second_half: {int(agreeing_a[halves_a].sum())}/{int(halves_a.sum())} count")
    print(f"duplicate_gallery_{kind}: {len(gallery)} sub-templates of {len(rows) - failed} fingers "
          f"({failed} failed to enrol)")
    best = max(margins, default=-np.inf)
    print(f"duplicate_margin_db_{kind}_max: " + (f"{best:.1f} dB" if np.isfinite(best) else "none reached count"))


def detection(kind: str, split: str, fingers: int, pad: int, matcher: Matcher, thresholds: Thresholds,
              scale: str = "pairwise") -> None:
    """True duplicates (8 impressions a finger): every finger enrolled from captures 0-3, the gallery filled up to
    ``pad`` fingers with the set's others (as large as the false alarms' gallery, so at the same threshold), then
    each enrolled again from captures 4-7 (none shared) and checked against it, its own first enrolment included."""
    rows = kind_templates(kind, split, fingers, impressions=8)
    entries, again = [], []
    for f, row in enumerate(rows):
        try:
            first, second = consolidate(row[:4], matcher), consolidate(row[4:8], matcher)
        except KioskError:
            continue
        entries += [EnrolledTemplate(f"e{f}", 1, code) for code in first.codes]
        again.append((f"e{f}", second))
    for f, row in enumerate(kind_templates(kind, split, pad)[fingers:], start=fingers):   # other fingers
        try:
            entries += [EnrolledTemplate(f"e{f}", 1, code) for code in consolidate(row[:4], matcher).codes]
        except KioskError:
            continue
    gallery = Gallery(entries)
    print(f"duplicate_detection_gallery_{kind}: {len(gallery)} sub-templates "
          f"(threshold {THRESHOLD[scale](thresholds, gallery):.1f} dB)")
    one = agreeing = two = own_decides = 0
    for key, second in again:
        found = SCORES[scale](second, gallery, matcher, thresholds)
        a, b = alarms_of(found, duplicate_agreement(second), key)
        one, agreeing = one + a, agreeing + b
        two += alarms_of(found, min(2, len(second.codes)), key)[1]
        decided = [(best, owner) for (owner, _f), (count, best) in found.items() if count >= duplicate_agreement(second)]
        own_decides += bool(decided) and max(decided)[1] == key
    n = len(again)
    print(f"duplicate_found_one_{kind}: {one}/{n} count ({100 * one / n:.1f} %)")
    print(f"duplicate_found_{kind}: {agreeing}/{n} count ({100 * agreeing / n:.1f} %)")
    print(f"duplicate_found_two_{kind}: {two}/{n} count ({100 * two / n:.1f} %)")
    print(f"duplicate_found_as_own_{kind}: {own_decides}/{n} count")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("kinds", nargs="*")
    parser.add_argument("--fingers", type=int, default=140)
    parser.add_argument("--split", choices=("reporting", "fresh"), default="reporting")
    parser.add_argument("--detection-fingers", type=int, default=60, help="fingers of 8 impressions (0: none)")
    parser.add_argument("--scale", choices=sorted(SCORES), default="pairwise",
                        help="pairwise: the check in force; identify: the identify path's scale (considered)")
    parser.add_argument("--duplicate-base", type=float, default=Thresholds().duplicate_base,
                        help="dB at one enrolled finger (or sub-template, pairwise); default the policy's")
    args = parser.parse_args(argv)
    matcher, thresholds = Matcher(), Thresholds(duplicate_base=args.duplicate_base)
    for kind in args.kinds or sorted(KINDS) + sorted(HELD_OUT):
        run(kind, args.split, args.fingers, matcher, thresholds, args.scale)
        if args.detection_fingers:
            detection(kind, args.split, args.detection_fingers, args.fingers, matcher, thresholds, args.scale)
    return 0


if __name__ == "__main__":
    sys.exit(main())
