"""Does the two-stage prefilter keep genuine mates in its shortlist in a large gallery? Per kind of data.

Usage: python benchmarks/fingerprint_prefilter_recall.py [--split reporting] [--size 10000] [KIND ...]

Per kind (dakoku_core.fingerprint.synth.kinds, REPORTING seeds by default; COARSE_SHORTLIST was chosen on TUNING
seeds): fingers 0-59 enrol from impressions 0-3 through ``consolidate`` (2-3 sub-templates each); the gallery is
filled up to ``--size`` templates with every impression of fingers 60-119 of the same kind (real mindtct prints,
the hardest strangers there are here) and then minutiae-level fillers (benchmarks/fingerprint_speed.py's). Each
genuine search (impressions 4-5 of an enrolled finger) counts as kept when any sub-template of its finger is
among the identify path's candidates. Prints ``name: value unit`` lines: recall after the coarse stage alone and
after both stages, and the prefilter's CPU time per search.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402

from fingerprint_speed import filler_codes  # noqa: E402
from dakoku_core.fingerprint import EnrolledTemplate, Gallery, Matcher  # noqa: E402
from dakoku_core.fingerprint import prefilter as pf  # noqa: E402
from dakoku_core.fingerprint.identify import PREFILTER_CANDIDATES  # noqa: E402
from dakoku_core.fingerprint.open_set import ENROL_CAPTURES, enrol_half  # noqa: E402
from dakoku_core.fingerprint.synth.kinds import KINDS, kind_templates  # noqa: E402

FINGERS = 120


def kind_recall(kind: str, split: str, size: int, fillers, matcher: Matcher) -> None:
    templates = kind_templates(kind, split, FINGERS)
    entries, failed = enrol_half(templates, matcher)
    strangers = [EnrolledTemplate(f"s{f}", 1, matcher.encode(t))
                 for f in range(FINGERS // 2, FINGERS) for t in templates[f]]
    entries += strangers[:size - len(entries)]
    entries += [EnrolledTemplate(f"filler{i}", 1, c) for i, c in enumerate(fillers[:size - len(entries)])]
    gallery = Gallery(entries)
    keys = np.array([e.employee_key for e in gallery.entries])
    coarse_kept, kept, searches, cpu = 0, 0, 0, []
    for f in range(FINGERS // 2):
        if not (keys == f"f{f}").any():
            continue                                   # enrolment failed: no mate to keep
        for t in templates[f][ENROL_CAPTURES:]:
            probe = matcher.encode(t)
            searches += 1
            start = time.thread_time()
            chosen = gallery.prefilter(probe, PREFILTER_CANDIDATES)
            cpu.append(1000 * (time.thread_time() - start))
            kept += any(keys[i] == f"f{f}" for i in chosen)
            coarse = pf.coarse_scores(pf.probe_rows(probe)[0], gallery._coarse)
            top = np.argpartition(coarse, -pf.COARSE_SHORTLIST)[-pf.COARSE_SHORTLIST:]
            coarse_kept += bool((keys[top] == f"f{f}").any())
    print(f"{kind}_enrolment_failed: {failed}/{FINGERS // 2} count")
    print(f"{kind}_coarse_recall_n{len(gallery)}: {coarse_kept}/{searches} count")
    print(f"{kind}_prefilter_recall_n{len(gallery)}: {kept}/{searches} count")
    print(f"{kind}_prefilter_cpu_p50_n{len(gallery)}: {np.percentile(cpu, 50):.1f} ms")
    print(f"{kind}_prefilter_cpu_p95_n{len(gallery)}: {np.percentile(cpu, 95):.1f} ms", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", default="reporting", choices=("tuning", "reporting"))
    parser.add_argument("--size", type=int, default=10_000)
    parser.add_argument("kinds", nargs="*", default=sorted(KINDS))
    args = parser.parse_args()
    print(f"coarse_shortlist: {pf.COARSE_SHORTLIST} count")
    fillers = filler_codes(9_980)
    matcher = Matcher()
    for kind in args.kinds:
        kind_recall(kind, args.split, args.size, fillers, matcher)


if __name__ == "__main__":
    main()
