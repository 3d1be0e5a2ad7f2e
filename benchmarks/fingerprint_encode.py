"""MCC encoding speed on one core (run with OPENBLAS_NUM_THREADS=1, set here if unset): time per template of
``dakoku_core.fingerprint.mcc.encode`` over 200 minutiae-level synthetic templates of 60 minutiae (the gallery filler
of benchmarks/fingerprint_speed.py), median and 95th percentile. Prints ``name: value unit`` lines.

Kiosks encode every enrolled template at start (1,000 employees x 4 sub-templates = 4,000 encodings), so
``encode_4000_templates`` is the start-up cost that follows from the median.
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

from dakoku_core.fingerprint import mcc  # noqa: E402
from dakoku_core.fingerprint.synth.minutiae import minutiae_template  # noqa: E402

TEMPLATES = 200
FIRST_SEED = 7_100_000


def main() -> None:
    templates = [minutiae_template(FIRST_SEED + i) for i in range(TEMPLATES)]
    for template in templates[:10]:                     # warm-up: imports, BLAS, allocator
        mcc.encode(template)
    times = []
    for template in templates:
        start = time.perf_counter()
        mcc.encode(template)
        times.append(1000 * (time.perf_counter() - start))
    p50 = statistics.median(times)
    print(f"openblas_threads: {os.environ.get('OPENBLAS_NUM_THREADS')} count")
    print(f"encode_templates: {TEMPLATES} count")
    print(f"encode_p50: {p50:.2f} ms")
    print(f"encode_p95: {float(np.percentile(times, 95)):.2f} ms")
    print(f"encode_4000_templates: {4 * p50:.1f} s")


if __name__ == "__main__":
    main()
