"""1:1 verify (the 2-factor mode: login ID or employee code, then the finger) on kinds of print it was not fitted on:
how often a stranger who claims an employee is let through, and how often the employee is refused.

Usage: python benchmarks/fingerprint_verify.py [--fingers 140] [--split reporting|fresh] [KIND ...]
(default: every kind, held-out ones included; prints are dakoku_core.fingerprint.synth.kinds' cached templates).

Protocol: the first half of the fingers enrol from captures 0-3 (``consolidate``, as at the kiosk), each as its own
employee with one finger; captures 4-5 of an enrolled finger are its employee's genuine claims; every capture of
the other half claims every enrolled employee in turn (a stranger typing someone else's code: the buddy punch the
2-factor mode is there to stop). Printed per kind (``name: value unit``), K of M claims:

- ``verify_false_accept_<kind>`` / ``verify_false_reject_<kind>``: the rule in force
  (:meth:`FingerprintIdentifier.verify`: the identify path's per-finger scale, ``Thresholds.verify_for``, 40 dB for
  one finger, promising 0.01 % of strangers' claims) with the gallery's self-check applied (fitted on the enrolled
  fingers' own sub-templates, never on the strangers' captures);
- ``..._table_<kind>``: the same rule on the table alone (a gallery under about 20 fingers, or before its check);
- ``..._pairwise_<kind>``: the rule until session 12 (the best pairwise 1:1 score, ``Matcher.score``, at 40);
- ``verify_claims_at_<L>db_<kind>``: strangers' claims at or above L dB on the per-finger scale with the check, and
  what the scale promises (10^(-L/10) of them).

Every employee here has one enrolled finger (threshold 40); ``Thresholds.verify_for`` adds 10 log10(fingers) for
more, which tests/fingerprint/test_identify.py covers. Each genuine claim is also put to ``verify`` itself, which
must decide as counted.
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

from dakoku_core.errors import KioskError  # noqa: E402
from dakoku_core.fingerprint import EnrolledTemplate, Gallery, Matcher  # noqa: E402
from dakoku_core.fingerprint.enroll import consolidate  # noqa: E402
from dakoku_core.fingerprint.identify import FingerprintIdentifier  # noqa: E402
from dakoku_core.fingerprint.open_set import ENROL_CAPTURES  # noqa: E402
from dakoku_core.fingerprint.policy import Thresholds  # noqa: E402
from dakoku_core.fingerprint.self_check import self_check  # noqa: E402
from dakoku_core.fingerprint.synth.kinds import HELD_OUT, KINDS, kind_templates  # noqa: E402

LEVELS_DB = (20, 30, 40)


def claim_levels(identifier: FingerprintIdentifier, galleries: dict, probe, key: str) -> float:
    """The claimed employee's best fused stage-1 level (what ``verify`` calibrates), 0 when nothing scored."""
    return identifier.raw_scores(probe, galleries[key]).get(key, (0.0, 0))[0]


def verified(identifier: FingerprintIdentifier, probe, key: str) -> bool:
    try:
        identifier.verify(probe, key)
        return True
    except KioskError:
        return False


def run(kind: str, split: str, fingers: int, matcher: Matcher, thresholds: Thresholds) -> None:
    rows = kind_templates(kind, split, fingers)
    half = fingers // 2
    entries, failed = [], 0
    for f, row in enumerate(rows[:half]):
        try:
            entries += [EnrolledTemplate(f"f{f}", 1, c) for c in consolidate(row[:ENROL_CAPTURES], matcher).codes]
        except KioskError:
            failed += 1
    gallery = Gallery(entries)
    identifier = FingerprintIdentifier(gallery, matcher, thresholds=thresholds)
    keys = sorted(gallery.employees())
    galleries = {k: gallery.restricted_to((k,)) for k in keys}
    codes = {k: [e.code for e in gallery.of_employee(k)] for k in keys}
    started = time.process_time()
    check = self_check(identifier)
    check_s = time.process_time() - started
    identifier.apply_self_check(check)
    table, checked = identifier.base_calibration, identifier.calibration
    threshold = thresholds.verify_for(1)

    def decide(probe, key: str) -> tuple[float, float, float]:
        level = claim_levels(identifier, galleries, probe, key)
        pairwise = max(matcher.scores_many(probe, codes[key]))
        return table(level), min(table(level), checked(level)), pairwise

    genuine = []           # (table, checked, pairwise) per genuine claim; a failed enrolment is a refusal
    for f, row in enumerate(rows[:half]):
        for t in row[ENROL_CAPTURES:]:
            if f"f{f}" not in galleries:
                genuine.append((0.0, 0.0, 0.0))
                continue
            probe = matcher.encode(t)
            genuine.append(decide(probe, f"f{f}"))
            # what is counted here is what FingerprintIdentifier.verify itself decides
            assert verified(identifier, probe, f"f{f}") == (genuine[-1][1] >= threshold), (kind, f)
    started = time.perf_counter()
    impostor = []
    for row in rows[half:]:
        for t in row:
            probe = matcher.encode(t)
            impostor += [decide(probe, key) for key in keys]
    per_claim_ms = 1000 * (time.perf_counter() - started) / max(len(impostor), 1)
    g, i = np.array(genuine), np.array(impostor)
    print(f"verify_gallery_{kind}: {len(keys)} fingers ({failed} failed to enrol), self-check "
          + (f"{check.pairs} pairs in {check_s:.1f} s CPU" if check else "none (too small)"))
    for name, col, at in (("", 1, threshold), ("_table", 0, threshold), ("_pairwise", 2, thresholds.verify)):
        fa, fr = int((i[:, col] >= at).sum()), int((g[:, col] < at).sum())
        print(f"verify_false_accept{name}_{kind}: {fa}/{len(i)} count ({100 * fa / len(i):.3f} %)")
        print(f"verify_false_reject{name}_{kind}: {fr}/{len(g)} count ({100 * fr / len(g):.1f} %)")
    for level in LEVELS_DB:
        k = int((i[:, 1] >= level).sum())
        print(f"verify_claims_at_{level}db_{kind}: {k}/{len(i)} count (observed {k / len(i):.2e}, "
              f"promised {10 ** (-level / 10):.0e})")
    print(f"verify_claim_ms_{kind}: {per_claim_ms:.2f} ms (both rules)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("kinds", nargs="*")
    parser.add_argument("--fingers", type=int, default=140)
    parser.add_argument("--split", choices=("reporting", "fresh"), default="reporting")
    args = parser.parse_args(argv)
    matcher, thresholds = Matcher(), Thresholds()
    for kind in args.kinds or sorted(KINDS) + sorted(HELD_OUT):
        run(kind, args.split, args.fingers, matcher, thresholds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
