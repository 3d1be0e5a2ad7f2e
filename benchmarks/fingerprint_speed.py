"""Fingerprint speed on one core (run with OPENBLAS_NUM_THREADS=1): 1:N identification at N = 1,000 and 10,000,
1:1 verification, and capture-to-decision from an image. Prints ``name: value unit`` lines.

Probes and their enrolled mates are image-level synthetic fingers (TUNING seeds, impressions 1 and 0); the rest of
each gallery is filled with minutiae-level synthetic templates (about 60 minutiae each), whose cylinder codes are
cached under $DAKOKU_FP_CACHE (or the temp dir) because encoding 10,000 templates takes minutes.
"""
from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from kiosk.errors import KioskError  # noqa: E402
from kiosk.fingerprint import EnrolledTemplate, FingerprintIdentifier, Gallery, Matcher, mcc  # noqa: E402
from kiosk.fingerprint.extractors.mindtct import MindtctExtractor  # noqa: E402
from kiosk.fingerprint.synth.dataset import TUNING, cache_dir, synthetic_set  # noqa: E402
from kiosk.fingerprint.synth.minutiae import minutiae_template  # noqa: E402

PROBES = 20
FILLER_SEED = 7_000_000


def filler_codes(count: int) -> list[mcc.CylinderCode]:
    path = cache_dir() / f"filler-codes-v1-{FILLER_SEED}-{count}.npz"
    if path.is_file():
        with np.load(path) as d:          # read each array once: NpzFile re-reads on every access
            bounds, xy, angles, bits, valid = (d[k] for k in ("offsets", "xy", "angles", "bits", "valid"))
        return [mcc.CylinderCode(xy[a:b], angles[a:b], bits[a:b], valid[a:b]) for a, b in zip(bounds[:-1], bounds[1:])]
    codes = [mcc.encode(minutiae_template(FILLER_SEED + i)) for i in range(count)]
    offsets = np.cumsum([0] + [len(c) for c in codes])
    np.savez(path, offsets=offsets, xy=np.concatenate([c.xy for c in codes]),
             angles=np.concatenate([c.angles for c in codes]), bits=np.concatenate([c.packed_bits for c in codes]),
             valid=np.concatenate([c.packed_valid for c in codes]))
    return codes


def timed(fn, repeat: int = 1) -> tuple[float, object]:
    best, result = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        result = fn()
        best.append(time.perf_counter() - t)
    return statistics.median(best), result


def main() -> None:
    print(f"openblas_threads: {os.environ.get('OPENBLAS_NUM_THREADS')} count")
    images = synthetic_set(TUNING, PROBES, 2)
    extractor, matcher = MindtctExtractor(), Matcher()
    mates = [matcher.encode(extractor.extract(row[0])) for row in images]
    probes = [matcher.encode(extractor.extract(row[1])) for row in images]
    t = time.perf_counter()
    fillers = filler_codes(10_000 - PROBES)
    print(f"filler_load_or_encode: {time.perf_counter() - t:.1f} s")
    one_to_one(images, extractor, matcher, probes, mates)
    for n in (1_000, 10_000):
        one_to_many(n, mates, probes, fillers, images if n == 1_000 else None, extractor, matcher)


def one_to_one(images, extractor, matcher, probes, mates) -> None:
    extract_ms = [1000 * timed(lambda im=row[1]: extractor.extract(im))[0] for row in images]
    template = extractor.extract(images[0][1])
    encode_ms = [1000 * timed(lambda: matcher.encode(template))[0] for _ in range(20)]
    print(f"extract_mindtct_median: {statistics.median(extract_ms):.1f} ms")
    print(f"encode_mcc_median: {statistics.median(encode_ms):.1f} ms")
    verify = [1000 * timed(lambda p=p, m=m: matcher.score(p, m), repeat=5)[0] for p, m in zip(probes, mates)]
    print(f"verify_1to1_median: {statistics.median(verify):.2f} ms")
    print(f"verify_1to1_with_probe_encoding_median: {statistics.median(verify) + statistics.median(encode_ms):.2f} ms")


def one_to_many(n, mates, probes, fillers, images, extractor, matcher) -> None:
    entries = [EnrolledTemplate(f"mate{i}", 1, c) for i, c in enumerate(mates)]
    entries += [EnrolledTemplate(f"filler{i}", 1, c) for i, c in enumerate(fillers[:n - len(mates)])]
    t = time.perf_counter()
    gallery = Gallery(entries)
    print(f"gallery_build_n{n}: {1000 * (time.perf_counter() - t):.0f} ms")
    identifier = FingerprintIdentifier(gallery, pattern_limit=n)
    times, outcomes = [], []
    for probe in probes:
        elapsed, outcome = timed(lambda p=probe: _identify(identifier, p), repeat=3)
        times.append(1000 * elapsed)
        outcomes.append(outcome)
    hits = sum(o == f"mate{i}" for i, o in enumerate(outcomes))
    print(f"identify_n{n}_median: {statistics.median(times):.1f} ms")
    print(f"identify_n{n}_max: {max(times):.1f} ms")
    print(f"identify_n{n}_threshold: {identifier.thresholds.identify(n):.0f} score")
    print(f"identify_n{n}_correct: {hits}/{len(probes)} count")
    print(f"identify_n{n}_rejected_auth_failed: {outcomes.count('auth_failed')}/{len(probes)} count")
    recall = sum(gallery.entries[k].employee_key == f"mate{i}"
                 for i, p in enumerate(probes) for k in gallery.prefilter(p, identifier.candidates))
    print(f"prefilter_recall_n{n}: {recall}/{len(probes)} count")
    codes_bytes = sum(e.code.packed_bits.nbytes + e.code.packed_valid.nbytes + e.code.xy.nbytes for e in entries)
    print(f"gallery_memory_n{n}: {(gallery._stack.nbytes + codes_bytes) / 2 ** 20:.0f} MiB")
    if images is not None:
        decide = [1000 * timed(lambda im=row[1]: _identify(identifier, matcher.encode(extractor.extract(im))))[0]
                  for row in images]
        print(f"capture_to_decision_n{n}_median: {statistics.median(decide):.1f} ms")
        print(f"capture_to_decision_n{n}_max: {max(decide):.1f} ms")


def _identify(identifier: FingerprintIdentifier, probe) -> str:
    try:
        return identifier.identify(probe).employee_key
    except KioskError as exc:
        return exc.key


if __name__ == "__main__":
    main()
