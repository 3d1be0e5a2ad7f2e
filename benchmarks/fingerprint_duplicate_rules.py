"""How the enrolment duplicate rule in force was chosen (session 12): every rule of a family on the same scores.

Usage: python benchmarks/fingerprint_duplicate_rules.py [--split reporting|fresh] [KIND ...]
(default: every kind, held-out ones included; the per-sub-template scores are cached under $DAKOKU_FP_CACHE).

The protocol is ``benchmarks/fingerprint_duplicates.py``'s (140 fingers enrolled one after the other, each from 4
captures, checked against the ones before it: false refusals; 60 fingers of 8 impressions enrolled again from 4
unshared captures against a gallery of 140: true duplicates found). For every new sub-template and every enrolled
finger it reaches on either scale it keeps the pairwise score (``enroll.duplicate_scores``' comparison) and the
identify path's per-finger score (table alone), then prints, per rule and kind, ``false refusals % / found``.

A rule ``(a, b, B)``: a finger is a duplicate when at least ``a`` new sub-templates reach it on the pairwise scale at
``Thresholds.duplicate`` (``k``: all of them) and at least ``b`` on the identify scale at B + 10 log10(enrolled
fingers); a tuple of rules is their union. The rule in force is (2, 1, 25); session 11's was (k, 0, -).
"""
from __future__ import annotations

import argparse
import os
import pickle
import sys
from math import log10
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from dakoku_core.errors import KioskError  # noqa: E402
from dakoku_core.fingerprint import EnrolledTemplate, Gallery, Matcher  # noqa: E402
from dakoku_core.fingerprint.enroll import DUPLICATE_CANDIDATES, consolidate  # noqa: E402
from dakoku_core.fingerprint.identify import FingerprintIdentifier  # noqa: E402
from dakoku_core.fingerprint.identify_calibration import fuse  # noqa: E402
from dakoku_core.fingerprint.open_set import ENROL_CAPTURES  # noqa: E402
from dakoku_core.fingerprint.policy import Thresholds  # noqa: E402
from dakoku_core.fingerprint.synth.dataset import cache_dir  # noqa: E402
from dakoku_core.fingerprint.synth.kinds import HELD_OUT, KINDS, KINDS_VERSION, kind_templates  # noqa: E402
from fingerprint_duplicates import detection_gallery  # noqa: E402  (benchmarks/ is this script's directory)

FINGERS, DETECTION = 140, 60
RULES = ([(("k", 0, 30),)]
         + [((a, b, base),) for base in (10, 15, 20, 25, 30)
            for a, b in ((0, 1), (0, 2), (0, "k"), (1, 1), (1, 2), (2, 1), (2, 2), ("k", 1), ("k", 2))]
         + [(("k", 1, base), (0, 2, base + extra)) for base in (10, 15, 20) for extra in (0, 10)])


def per_sub_template(enrolment, gallery: Gallery, matcher: Matcher) -> list[dict]:
    """For each new sub-template: enrolled finger -> (best pairwise score, identify-scale score)."""
    identifier = FingerprintIdentifier(gallery, matcher)
    cal = identifier.base_calibration
    out = []
    for code in enrolment.codes:
        scores: dict = {}
        for index in gallery.prefilter(code, DUPLICATE_CANDIDATES):
            entry = gallery.entries[index]
            key = (entry.employee_key, entry.finger)
            scores[key] = [max(scores.get(key, [-np.inf])[0], matcher.score(code, entry.code)), 0.0]
        levels: dict = {}
        for entry, raw, pairs in identifier.candidate_scores(code, gallery):
            levels.setdefault((entry.employee_key, entry.finger), []).append(cal.comparison(raw, pairs))
        for key, values in levels.items():
            scores.setdefault(key, [-np.inf, 0.0])[1] = cal(fuse(values))
        out.append({key: tuple(v) for key, v in scores.items()})
    return out


def scores_of(kind: str, split: str) -> dict:
    path = cache_dir() / f"duplicate-rules-v{KINDS_VERSION}-{kind}-{split}-{FINGERS}-{DETECTION}.pickle"
    if path.is_file():
        return pickle.loads(path.read_bytes())
    matcher, rows = Matcher(), kind_templates(kind, split, FINGERS)
    alarms, gallery = [], Gallery(())
    for f, row in enumerate(rows):
        try:
            enrolment = consolidate(row[:ENROL_CAPTURES], matcher)
        except KioskError:
            continue
        if len(gallery):
            alarms.append((len(gallery), gallery.pattern_count(), per_sub_template(enrolment, gallery, matcher)))
        gallery = gallery.changed((), [EnrolledTemplate(f"e{f}", 1, c) for c in enrolment.codes])
    full, again = detection_gallery(kind, split, DETECTION, FINGERS, matcher)
    dups = [(key, len(full), full.pattern_count(), per_sub_template(second, full, matcher)) for key, second in again]
    data = {"alarms": alarms, "dups": dups}
    path.write_bytes(pickle.dumps(data))
    return data


def flagged(subs: list[dict], templates: int, fingers: int, rule: tuple, own: str | None = None) -> bool:
    a, b, base = rule
    k = len(subs)

    def needed(x) -> int:
        return k if x == "k" else min(x, k)

    pairwise_at = Thresholds().duplicate(templates)
    identify_at = base + 10 * log10(max(fingers, 1))
    for key in {key for s in subs for key in s if own is None or key[0] == own}:
        pw = sum(s.get(key, (-np.inf, 0.0))[0] >= pairwise_at for s in subs)
        ident = sum(s.get(key, (-np.inf, 0.0))[1] >= identify_at for s in subs)
        if pw >= needed(a) and ident >= needed(b):
            return True
    return False


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("kinds", nargs="*")
    parser.add_argument("--split", choices=("reporting", "fresh"), default="reporting")
    args = parser.parse_args(argv)
    kinds = args.kinds or sorted(KINDS) + sorted(HELD_OUT)
    data = {kind: scores_of(kind, args.split) for kind in kinds}
    for rules in RULES:
        cells = []
        for kind in kinds:
            d = data[kind]
            refused = sum(any(flagged(s, t, n, r) for r in rules) for t, n, s in d["alarms"])
            found = sum(any(flagged(s, t, n, r, key) for r in rules) for key, t, n, s in d["dups"])
            cells.append(f"{kind} {100 * refused / max(len(d['alarms']), 1):.1f} % / {found} of {len(d['dups'])}")
        print(f"duplicate_rule {rules}: " + " | ".join(cells))
    return 0


if __name__ == "__main__":
    sys.exit(main())
