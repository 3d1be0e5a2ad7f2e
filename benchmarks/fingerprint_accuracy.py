"""Fingerprint accuracy, FVC protocol: our MCC (LSS-R) matcher against NIST bozorth3 on the same mindtct minutiae.

Usage: python benchmarks/fingerprint_accuracy.py [DIR] [--fingers N] [--impressions N] [--kind KIND]
                                                [--enrol-dir DIR2]

DIR holds 8-bit grey PNGs named <finger>_<impression>.png. Without DIR the REPORTING seed range of the synthetic
generator is used (default 100 fingers x 8 impressions, cached under $DAKOKU_FP_CACHE or the temp dir), or with
``--kind`` the REPORTING seeds of another kind of data (dakoku_core/fingerprint/synth/kinds.py); the calibrations and
every parameter were chosen on TUNING seeds only. ``--enrol-dir DIR2`` (same naming, at least 4 impressions)
enrols every finger of DIR2 as well, from its first 4, so the open-set search runs against a larger gallery (their
fingers are never searched with). Prints ``name: value unit`` lines.
Synthetic results rank algorithms; they do not predict field error rates.
"""
from __future__ import annotations

import argparse
import re
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from dakoku_core.errors import KioskError  # noqa: E402
from dakoku_core.fingerprint import FingerprintIdentifier, Gallery, mcc  # noqa: E402
from dakoku_core.fingerprint.enroll import assess_capture  # noqa: E402
from dakoku_core.fingerprint.evaluation import error_rates, fvc_pairs, score_pairs  # noqa: E402
from dakoku_core.fingerprint.extractors.mindtct import MindtctExtractor  # noqa: E402
from dakoku_core.fingerprint.extractors.nbis_native import bozorth3  # noqa: E402
from dakoku_core.fingerprint.matcher import Matcher  # noqa: E402
from dakoku_core.fingerprint.open_set import enrol_half  # noqa: E402
from dakoku_core.fingerprint.synth.dataset import REPORTING, TUNING, synthetic_set  # noqa: E402


def load_dir(directory: Path) -> list[list[np.ndarray]]:
    from PIL import Image
    groups: dict[str, dict[int, np.ndarray]] = defaultdict(dict)
    for path in sorted(directory.glob("*.png")):
        m = re.fullmatch(r"(.+)_(\d+)\.png", path.name)
        if m:
            groups[m.group(1)][int(m.group(2))] = np.asarray(Image.open(path).convert("L"))
    sizes = {len(v) for v in groups.values()}
    if len(sizes) != 1:
        raise SystemExit(f"every finger needs the same number of impressions, found {sorted(sizes)}")
    return [[imps[k] for k in sorted(imps)] for _, imps in sorted(groups.items())]


def report(name: str, genuine: np.ndarray, impostor: np.ndarray) -> float:
    r = error_rates(genuine, impostor)
    print(f"{name}_eer: {100 * r.eer:.3f} %")
    print(f"{name}_fnmr_at_fmr_1pct: {100 * r.fnmr_at_fmr_1pct:.3f} %")
    print(f"{name}_fnmr_at_fmr_0.1pct: {100 * r.fnmr_at_fmr_01pct:.3f} %")
    print(f"{name}_fnmr_at_fmr_0: {100 * r.fnmr_at_fmr_0:.3f} %")
    return r.eer


def open_set_identification(templates, matcher: Matcher, extra=()) -> None:
    """The kiosk's own flow: the first half of the fingers enrol from 4 captures (consolidated sub-templates);
    their other impressions search the gallery (should be found), and every impression of the other half searches
    it too (should be rejected); ``extra`` fingers are enrolled too. Thresholds as in production: identify =
    30 + 10 log10(N enrolled fingers) on the identify path's own calibration."""
    fingers, impressions = len(templates), len(templates[0])
    if impressions < 6:
        return
    enrolled = range(fingers // 2)
    entries, failed = enrol_half(templates, matcher, extra)
    gallery = Gallery(entries)
    identifier = FingerprintIdentifier(gallery, matcher, pattern_limit=max(fingers, gallery.pattern_count()))
    outcome = {"genuine": [], "impostor": []}
    for f in range(fingers):
        kind = "genuine" if f in enrolled else "impostor"
        for t in templates[f][4:] if kind == "genuine" else templates[f]:
            try:
                outcome[kind].append(identifier.identify(matcher.encode(t)).employee_key == f"f{f}")
            except KioskError as exc:
                outcome[kind].append(exc.key)
    genuine, impostor = outcome["genuine"], outcome["impostor"]
    print(f"identify_gallery: {len(entries)} templates of {gallery.pattern_count()} fingers")
    print(f"identify_threshold: {identifier.thresholds.identify(gallery.pattern_count()):.1f} score")
    print(f"identify_enrolment_failed: {failed}/{len(enrolled) + len(extra)} count")
    print(f"identify_genuine_correct: {100 * genuine.count(True) / len(genuine):.2f} % of {len(genuine)}")
    print(f"identify_genuine_rejected: {100 * genuine.count('auth_failed') / len(genuine):.2f} %")
    print(f"identify_genuine_wrong_employee: {genuine.count(False)} count")
    print(f"identify_impostor_false_identification: {impostor.count(True) + impostor.count(False)}"
          f"/{len(impostor)} count")
    ambiguous = sum(str(o).startswith("fingerprint_ambiguous") for o in genuine + impostor)
    print(f"identify_ambiguous: {ambiguous} count")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("dir", nargs="?", type=Path)
    parser.add_argument("--fingers", type=int, default=100)
    parser.add_argument("--impressions", type=int, default=8)
    parser.add_argument("--seeds", choices=("reporting", "tuning"), default="reporting",
                        help="tuning: only while choosing parameters; published figures use reporting")
    parser.add_argument("--kind", help="another kind of synthetic data (dakoku_core.fingerprint.synth.kinds), 6 impressions")
    parser.add_argument("--enrol-dir", type=Path, help="more fingers to enrol (PNGs named like DIR's)")
    args = parser.parse_args()
    t0 = time.perf_counter()
    images = load_images(args)
    print(f"fingers: {len(images)} count")
    print(f"impressions_per_finger: {len(images[0])} count")
    print(f"data_seconds: {time.perf_counter() - t0:.1f} s")
    extractor, matcher = MindtctExtractor(), Matcher()
    templates = images if args.kind else [[extractor.extract(im) for im in row] for row in images]
    extra = [[extractor.extract(im) for im in row] for row in load_dir(args.enrol_dir)] if args.enrol_dir else []
    eers = verification(templates, matcher)
    if eers["bozorth3"] > 0:
        print(f"mcc_eer_reduction_vs_bozorth3: {100 * (1 - eers['mcc'] / eers['bozorth3']):.1f} %")
    open_set_identification(templates, matcher, extra)
    print(f"total_seconds: {time.perf_counter() - t0:.1f} s")


def load_images(args) -> list:
    if args.dir:
        print(f"dataset: {args.dir}")
        return load_dir(args.dir)
    if args.kind:                      # minutiae templates (the kinds cache keeps no images)
        from dakoku_core.fingerprint.synth.kinds import kind_templates
        split = "reporting" if args.seeds == "reporting" else "tuning"
        print(f"dataset: kind {args.kind} {split} seeds, {args.fingers} fingers x 6")
        return kind_templates(args.kind, split, args.fingers)
    seed_range = REPORTING if args.seeds == "reporting" else TUNING
    print(f"dataset: synthetic {seed_range.name} seeds {seed_range.start}..{seed_range.start + args.fingers - 1}")
    return list(synthetic_set(seed_range, args.fingers, args.impressions))


def verification(templates, matcher: Matcher) -> dict[str, float]:
    """FVC protocol for our matcher and bozorth3 on the same minutiae; returns the EERs."""
    codes = [[mcc.encode(t) for t in row] for row in templates]
    failed = [[not assess_capture(t, 0, c).usable for t, c in zip(tr, cr)] for tr, cr in zip(templates, codes)]
    print(f"failure_to_enrol: {100 * np.mean(failed):.3f} %")
    print(f"mean_minutiae: {np.mean([len(t) for row in templates for t in row]):.1f} count")
    ours = [[None if f else c for c, f in zip(cr, fr)] for cr, fr in zip(codes, failed)]
    theirs = [[None if f else t for t, f in zip(tr, fr)] for tr, fr in zip(templates, failed)]
    genuine_pairs, impostor_pairs = fvc_pairs(len(templates), len(templates[0]))
    print(f"genuine_attempts: {len(genuine_pairs)} count")
    print(f"impostor_attempts: {len(impostor_pairs)} count")
    print(f"fmr_resolution_limit: {100 * 3.0 / len(impostor_pairs):.4f} %")
    eers = {}
    for name, compare, items in (("mcc", matcher.raw_score, ours), ("bozorth3", bozorth3, theirs)):
        t = time.perf_counter()
        g = score_pairs(genuine_pairs, compare, items)
        i = score_pairs(impostor_pairs, compare, items)
        elapsed = time.perf_counter() - t
        eers[name] = report(name, g, i)
        print(f"{name}_mean_comparison: {1000 * elapsed / (len(g) + len(i)):.2f} ms")
    return eers


if __name__ == "__main__":
    main()
