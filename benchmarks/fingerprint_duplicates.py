"""The enrolment duplicate check on data it was not fitted on: how often a new employee's finger is refused as
already registered (「すでに登録済みの情報です。 重複して登録することはできません」, ``credential_duplicate``),
per kind of print, and how often the same finger enrolled again is found.

Usage: python benchmarks/fingerprint_duplicates.py [--fingers 140] [--detection-fingers 60]
       [--split reporting|fresh] [--duplicate-base 30] [KIND ...]
(default: every kind, held-out ones included; prints are dakoku_core.fingerprint.synth.kinds' cached templates).

Protocol, as a company enrols its employees one after the other: finger i (its first 4 captures consolidated, as at
the kiosk) is checked against the company gallery of fingers 0 .. i-1, each another employee's, and then added.
Every duplicate found here is a false alarm: a manager told that a finger nobody enrolled is registered already.
A pairwise comparison counts when its score (plain LSS-R, the 1:1 calibration; each new sub-template's best against
an enrolled finger's sub-templates among its prefilter candidates, ``enroll.duplicate_scores``) reaches
``Thresholds().duplicate(N)`` = 30 + 10 log10(N sub-templates).

Printed per kind (``name: value unit``), K of the M fingers checked against a gallery of at least one:
``duplicate_false_alarm_<kind>`` with the rule in force (``enroll.duplicate_fingers``, session 12: two new
sub-templates reach one enrolled finger pairwise, and one of them reaches it on the identify path's per-finger
scale at ``Thresholds.duplicate_identify``), ``..._one_<kind>`` with the rule until session 11 (any one pairwise
comparison), ``..._every_<kind>`` with session 11's (every new sub-template pairwise); ``..._second_half``: those
checked against at least half the set; the gallery's size; ``duplicate_margin_db_<kind>_max``: the best pairwise
score against another employee's finger minus the threshold.

True duplicates (``--detection-fingers``, 8 impressions a finger): each finger enrolled from captures 0-3, the
gallery filled with the set's other fingers up to ``--fingers`` (the false alarms' gallery size, so the same
threshold), then each enrolled again from captures 4-7 and checked against it: ``duplicate_found[_one|_every]_<kind>``
(its own finger found by each rule) and ``duplicate_found_as_own_<kind>`` (found by the rule in force, and the
strongest duplicate is its own, so an enrolment by the same employee is answered
「検出された認証データは「{name}({code})」に登録済みです」 with their own name rather than as another employee's).
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
from dakoku_core.fingerprint.enroll import consolidate, duplicate_fingers, duplicate_scores  # noqa: E402
from dakoku_core.fingerprint.open_set import ENROL_CAPTURES  # noqa: E402
from dakoku_core.fingerprint.policy import Thresholds  # noqa: E402
from dakoku_core.fingerprint.synth.kinds import HELD_OUT, KINDS, kind_templates  # noqa: E402


def alarms_of(found: dict, needed: int, key: str | None = None) -> tuple[bool, bool]:
    """Whether any finger of ``found`` (duplicate_scores; with ``key``, only that employee's) is a duplicate by one
    sub-template at the threshold (the rule until session 11), and by ``needed`` of them."""
    counts = [count for (owner, _f), (count, _best) in found.items() if key is None or owner == key]
    return any(counts), any(c >= needed for c in counts)


def run(kind: str, split: str, fingers: int, matcher: Matcher, thresholds: Thresholds) -> None:
    """False alarms: each finger checked against the gallery of the ones enrolled before it."""
    rows = kind_templates(kind, split, fingers)
    one, every, agreeing, halves, margins, failed = [], [], [], [], [], 0
    gallery = Gallery(())
    for f, row in enumerate(rows):
        try:
            enrolment = consolidate(row[:ENROL_CAPTURES], matcher)
        except KioskError:
            failed += 1
            continue
        if len(gallery):
            found = duplicate_scores(enrolment, gallery, matcher, thresholds)
            a, b = alarms_of(found, len(enrolment.codes))
            one.append(a)
            every.append(b)
            agreeing.append(bool(duplicate_fingers(enrolment, gallery, matcher, thresholds)))
            halves.append(f >= fingers // 2)
            best = max((score for _count, score in found.values()), default=-np.inf)
            margins.append(best - thresholds.duplicate(len(gallery)))
        gallery = gallery.changed((), [EnrolledTemplate(f"e{f}", 1, code) for code in enrolment.codes])
    one_a, agreeing_a, halves_a = np.array(one), np.array(agreeing), np.array(halves, dtype=bool)
    m = len(one_a)
    print(f"duplicate_false_alarm_one_{kind}: {int(one_a.sum())}/{m} count ({100 * one_a.mean():.1f} %)")
    print(f"duplicate_false_alarm_every_{kind}: {sum(every)}/{m} count ({100 * sum(every) / m:.1f} %)")
    print(f"duplicate_false_alarm_{kind}: {int(agreeing_a.sum())}/{m} count ({100 * agreeing_a.mean():.1f} %)")
    print(f"duplicate_false_alarm_one_{kind}_second_half: {int(one_a[halves_a].sum())}/{int(halves_a.sum())} count")
    print(f"duplicate_false_alarm_{kind}_second_half: {int(agreeing_a[halves_a].sum())}/{int(halves_a.sum())} count")
    print(f"duplicate_gallery_{kind}: {len(gallery)} sub-templates of {len(rows) - failed} fingers "
          f"({failed} failed to enrol)")
    best = max(margins, default=-np.inf)
    print(f"duplicate_margin_db_{kind}_max: " + (f"{best:.1f} dB" if np.isfinite(best) else "none reached count"))


def detection_gallery(kind: str, split: str, fingers: int, pad: int, matcher: Matcher
                      ) -> tuple[Gallery, list[tuple[str, object]]]:
    """The first ``fingers`` fingers (8 impressions) enrolled from captures 0-3 and the set's next ones up to ``pad``
    from theirs; and each of the first enrolled again from captures 4-7: (employee key, enrolment)."""
    entries, again = [], []
    for f, row in enumerate(kind_templates(kind, split, fingers, impressions=8)):
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
    return Gallery(entries), again


def detection(kind: str, split: str, fingers: int, pad: int, matcher: Matcher, thresholds: Thresholds) -> None:
    """True duplicates (8 impressions a finger): every finger enrolled from captures 0-3, the gallery filled up to
    ``pad`` fingers with the set's others (as large as the false alarms' gallery, so at the same threshold), then
    each enrolled again from captures 4-7 (none shared) and checked against it, its own first enrolment included."""
    gallery, again = detection_gallery(kind, split, fingers, pad, matcher)
    print(f"duplicate_detection_gallery_{kind}: {len(gallery)} sub-templates "
          f"(threshold {thresholds.duplicate(len(gallery)):.1f} dB pairwise, "
          f"{thresholds.duplicate_identify(gallery.pattern_count()):.1f} dB identify)")
    one = every = agreeing = own_decides = 0
    for key, second in again:
        found = duplicate_scores(second, gallery, matcher, thresholds)
        a, b = alarms_of(found, len(second.codes), key)
        one, every = one + a, every + b
        decided = duplicate_fingers(second, gallery, matcher, thresholds)
        agreeing += any(owner == key for _best, (owner, _f) in decided)
        own_decides += bool(decided) and max(decided)[1][0] == key
    n = len(again)
    print(f"duplicate_found_one_{kind}: {one}/{n} count ({100 * one / n:.1f} %)")
    print(f"duplicate_found_every_{kind}: {every}/{n} count ({100 * every / n:.1f} %)")
    print(f"duplicate_found_{kind}: {agreeing}/{n} count ({100 * agreeing / n:.1f} %)")
    print(f"duplicate_found_as_own_{kind}: {own_decides}/{n} count")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("kinds", nargs="*")
    parser.add_argument("--fingers", type=int, default=140)
    parser.add_argument("--split", choices=("reporting", "fresh"), default="reporting")
    parser.add_argument("--detection-fingers", type=int, default=60, help="fingers of 8 impressions (0: none)")
    parser.add_argument("--duplicate-base", type=float, default=Thresholds().duplicate_base,
                        help="pairwise dB at one enrolled sub-template; default the policy's")
    args = parser.parse_args(argv)
    matcher, thresholds = Matcher(), Thresholds(duplicate_base=args.duplicate_base)
    for kind in args.kinds or sorted(KINDS) + sorted(HELD_OUT):
        run(kind, args.split, args.fingers, matcher, thresholds)
        if args.detection_fingers:
            detection(kind, args.split, args.detection_fingers, args.fingers, matcher, thresholds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
