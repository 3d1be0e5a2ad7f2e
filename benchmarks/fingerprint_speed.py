"""Fingerprint speed on one core (run with OPENBLAS_NUM_THREADS=1): 1:N identification at N = 1,000 and 10,000,
1:1 verification, capture-to-decision from an image, and libfprint's own identify (bozorth3) at N = 1,000 on the
same probes as ours, for the ratio. Prints ``name: value unit`` lines. ``--libfprint-only`` runs just the latter,
``--no-libfprint`` all but it. Times are wall-clock and, as ``*_cpu*``, this process's CPU time (the machine may
be shared).

Probes and their enrolled mates are image-level synthetic fingers (TUNING seeds, impressions 1 and 0); the rest of
each gallery is filled with minutiae-level synthetic templates (about 60 minutiae each), whose cylinder codes are
cached under $DAKOKU_FP_CACHE (or the temp dir) because encoding 10,000 templates takes minutes.
"""
from __future__ import annotations

import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from dakoku_core.errors import KioskError  # noqa: E402
from dakoku_core.fingerprint import EnrolledTemplate, FingerprintIdentifier, Gallery, Matcher, mcc  # noqa: E402
from dakoku_core.fingerprint.crypto import StaticKeyProvider, TemplateBinding, TemplateCipher  # noqa: E402
from dakoku_core.fingerprint.enroll import consolidate  # noqa: E402
from dakoku_core.fingerprint.self_check import BackgroundSelfCheck, gallery_digest, self_check  # noqa: E402
from dakoku_core.fingerprint.extractors.mindtct import MindtctExtractor  # noqa: E402
from dakoku_core.fingerprint.synth.dataset import TUNING, cache_dir, synthetic_set  # noqa: E402
from dakoku_core.fingerprint.synth.minutiae import minutiae_template  # noqa: E402

PROBES = 20
FILLER_SEED = 7_000_000
LIBFPRINT_N = 1_000
LIBFPRINT_FINGERS = 5            # enrolled through virtual_image (5 stages each); the rest of the 1,000 derived
LIBFPRINT_FILLER_SEED = 8_000_000
PUNCH_GAP_S = 0.5                # between the punches timed during a self-check
SUB_TEMPLATES = 3                # what the kiosk keeps per enrolled finger (enroll.MAX_SUB_TEMPLATES)


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
    extractor, matcher = MindtctExtractor(), Matcher()
    t = time.perf_counter()
    fillers = filler_codes(10_000 - PROBES)
    print(f"filler_load_or_encode: {time.perf_counter() - t:.1f} s")
    if "--libfprint-only" not in sys.argv[1:]:
        images = synthetic_set(TUNING, PROBES, 2)
        mates = [matcher.encode(extractor.extract(row[0])) for row in images]
        probes = [matcher.encode(extractor.extract(row[1])) for row in images]
        one_to_one(images, extractor, matcher, probes, mates)
        for n in (1_000, 10_000):
            one_to_many(n, mates, probes, fillers, images, extractor, matcher)
    if "--no-libfprint" not in sys.argv[1:]:
        libfprint_against_ours(extractor, matcher, fillers)


def one_to_one(images, extractor, matcher, probes, mates) -> None:
    extract_ms = [1000 * timed(lambda im=row[1]: extractor.extract(im))[0] for row in images]
    template = extractor.extract(images[0][1])
    encode_ms = [1000 * timed(lambda: matcher.encode(template))[0] for _ in range(20)]
    print(f"extract_mindtct_median: {statistics.median(extract_ms):.1f} ms")
    print(f"encode_mcc_median: {statistics.median(encode_ms):.1f} ms")
    # one pairwise comparison (enrolment's agreement between captures, the duplicate check); 1:1 verify itself
    # decides on the identify path since session 12: verify_n<N>_p95 below
    pair = [1000 * timed(lambda p=p, m=m: matcher.score(p, m), repeat=5)[0] for p, m in zip(probes, mates)]
    print(f"pairwise_1to1_median: {statistics.median(pair):.2f} ms")
    print(f"pairwise_1to1_with_probe_encoding_median: {statistics.median(pair) + statistics.median(encode_ms):.2f} ms")


def one_to_many(n, mates, probes, fillers, images, extractor, matcher) -> None:
    """Build and identify; wall-clock and this process's CPU time, since the machine is shared.

    ``gallery_build_n*`` is the kiosk's start: the store's sealed codes opened (AES-GCM, then
    :func:`decode_code`), the entries made and the prefilter stacked. ``gallery_build_from_codes_n*`` starts
    from freshly encoded codes instead (as after a full pull): every code is compressed too."""
    owners = [(f"mate{i}", c) for i, c in enumerate(mates)] + [
        (f"filler{i}", c) for i, c in enumerate(fillers[:n - len(mates)])]
    cipher = TemplateCipher(StaticKeyProvider.generate())
    sealed = [(key, cipher.seal_code(c, TemplateBinding(key, 1, "D1"))) for key, c in owners]
    wall, cpu = time.perf_counter(), time.process_time()
    gallery = Gallery([EnrolledTemplate(key, 1, cipher.open_code(blob, TemplateBinding(key, 1, "D1")))
                       for key, blob in sealed])
    print(f"gallery_build_n{n}: {1000 * (time.perf_counter() - wall):.0f} ms")
    print(f"gallery_build_n{n}_cpu: {1000 * (time.process_time() - cpu):.0f} ms")
    del sealed
    cpu = time.process_time()
    Gallery([EnrolledTemplate(key, 1, c) for key, c in owners])
    print(f"gallery_build_from_codes_n{n}_cpu: {1000 * (time.process_time() - cpu):.0f} ms")
    print(f"gallery_memory_n{n}: {gallery.nbytes / 2 ** 20:.1f} MiB")
    identifier = FingerprintIdentifier(gallery, pattern_limit=n)
    times, cpu_times, outcomes = [], [], []
    for probe in probes:
        elapsed, outcome = timed(lambda p=probe: _identify(identifier, p), repeat=3)
        cpu = time.thread_time()
        _identify(identifier, probe)
        cpu_times.append(1000 * (time.thread_time() - cpu))
        times.append(1000 * elapsed)
        outcomes.append(outcome)
    hits = sum(o == f"mate{i}" for i, o in enumerate(outcomes))
    print(f"identify_n{n}_median: {statistics.median(times):.1f} ms")
    print(f"identify_n{n}_p50: {np.percentile(times, 50):.1f} ms")
    print(f"identify_n{n}_p95: {np.percentile(times, 95):.1f} ms")
    print(f"identify_n{n}_max: {max(times):.1f} ms")
    print(f"identify_n{n}_cpu_p50: {np.percentile(cpu_times, 50):.1f} ms")
    print(f"identify_n{n}_cpu_p95: {np.percentile(cpu_times, 95):.1f} ms")
    print(f"identify_n{n}_threshold: {identifier.thresholds.identify(n):.0f} score")
    print(f"identify_n{n}_correct: {hits}/{len(probes)} count")
    print(f"identify_n{n}_rejected_auth_failed: {outcomes.count('auth_failed')}/{len(probes)} count")
    # 1:1 verify (the 2-factor mode) as the kiosk runs it: the claimed employee's fingers picked out of this
    # gallery, then scored on the identify path's scale.
    verify = [1000 * timed(lambda p=probe, i=i: _verify(identifier, p, f"mate{i}"), repeat=3)[0]
              for i, probe in enumerate(probes)]
    print(f"verify_n{n}_p95: {np.percentile(verify, 95):.1f} ms")
    # the heaviest claim the server allows: an employee with 10 fingers of 3 sub-templates (30 full comparisons)
    heavy = identifier.gallery.changed((), [EnrolledTemplate("heavy", k // 3, c) for k, c in enumerate(fillers[-30:])])
    heavy_identifier = FingerprintIdentifier(heavy, pattern_limit=n + 10)
    verify = [1000 * timed(lambda p=probe: _verify(heavy_identifier, p, "heavy"), repeat=3)[0] for probe in probes]
    print(f"verify_n{n}_ten_fingers_p95: {np.percentile(verify, 95):.1f} ms")
    # The gallery's self-check (dakoku_core.fingerprint.self_check), as the kiosk runs it in the background after
    # each build: its time on one core, and the decision's with it in force (one more interpolation).
    cpu = time.thread_time()
    check = self_check(identifier)
    print(f"self_check_n{n}_cpu: {time.thread_time() - cpu:.1f} s")
    # what a restart pays instead when the kept check is this gallery's own (the kiosk: no run at all)
    cpu = time.thread_time()
    gallery_digest(gallery, identifier.base_calibration)
    print(f"self_check_digest_n{n}_cpu: {1000 * (time.thread_time() - cpu):.0f} ms")
    if check is not None:
        print(f"self_check_n{n}_probes: {check.probes} count")
        identifier.apply_self_check(check)
        checked = [1000 * timed(lambda p=probe: _identify(identifier, p), repeat=3)[0] for probe in probes]
        print(f"identify_n{n}_p95_with_self_check: {np.percentile(checked, 95):.1f} ms")
        identifier.apply_self_check(None)
        during_check(identifier, probes, n)
    recall = sum(gallery.entries[k].employee_key == f"mate{i}"
                 for i, p in enumerate(probes) for k in gallery.prefilter(p, identifier.candidates))
    print(f"prefilter_recall_n{n}: {recall}/{len(probes)} count")
    if images is not None:
        decide, decide_cpu = [], []
        for row in images:
            cpu = time.thread_time()
            decide.append(1000 * timed(
                lambda im=row[1]: _identify(identifier, matcher.encode(extractor.extract(im))))[0])
            decide_cpu.append(1000 * (time.thread_time() - cpu))
        print(f"capture_to_decision_n{n}_median: {statistics.median(decide):.1f} ms")
        print(f"capture_to_decision_n{n}_max: {max(decide):.1f} ms")
        print(f"capture_to_decision_n{n}_cpu_median: {statistics.median(decide_cpu):.1f} ms")
        print(f"capture_to_decision_n{n}_cpu_max: {max(decide_cpu):.1f} ms")


def _verify(identifier: FingerprintIdentifier, probe, key: str) -> str:
    try:
        return identifier.verify(probe, key).employee_key
    except KioskError as exc:
        return exc.key


def during_check(identifier: FingerprintIdentifier, probes, n: int) -> None:
    """A punch's search while the self-check runs in the background (the kiosk, after each gallery change): alone
    on the core with it (``_free``), and inside ``foreground()`` as the kiosk's punch is, where the check pauses
    between its searches (``_paused``). A punch every PUNCH_GAP_S, as on a busy morning."""
    for label in ("free", "paused"):
        checks = BackgroundSelfCheck()
        checks.attach(FingerprintIdentifier(identifier.gallery, pattern_limit=n))
        time.sleep(2.0)                                      # the check well under way
        times = []
        for probe in probes:
            if label == "paused":
                with checks.foreground():
                    times.append(1000 * timed(lambda p=probe: _identify(identifier, p))[0])
            else:
                times.append(1000 * timed(lambda p=probe: _identify(identifier, p))[0])
            time.sleep(PUNCH_GAP_S)
        running = not checks.finished.is_set()
        checks.cancel()
        print(f"identify_n{n}_p95_during_self_check_{label}: {np.percentile(times, 95):.1f} ms"
              f"{'' if running else ' (the check ended before the last search)'}")
        print(f"identify_n{n}_max_during_self_check_{label}: {max(times):.1f} ms")


def _identify(identifier: FingerprintIdentifier, probe) -> str:
    try:
        return identifier.identify(probe).employee_key
    except KioskError as exc:
        return exc.key


# --- libfprint's own identify (bozorth3, first print >= 40) against ours, same enrolment images and probes ----

def libfprint_against_ours(extractor, matcher, fillers) -> None:
    """Both sides get the same 5 fingers' enrolment images (impressions 0-4 of TUNING fingers) and probes
    (impression 5), in a gallery of 1,000 enrolled fingers. libfprint: its own 5-stage enrolment of those 5, and
    995 prints derived from one of them with synthetic minutiae (kiosk.fingerprint.libfprint_print), 5 samples
    each; the mates come last, so each identify compares against the whole gallery (its cost for a stranger or
    the last enrolled; a genuine finger at a random place costs about half). Ours: our enrolment of the same
    images and 995 filler fingers of 3 sub-templates each, as the kiosk stores them."""
    from kiosk.fingerprint.libfprint_loop import load_fprint
    from kiosk.fingerprint.libfprint_virtual import VirtualImageLibfprint

    try:
        load_fprint()
    except KioskError as exc:
        print(f"libfprint_identify_n{LIBFPRINT_N}: skipped ({exc.detail})")
        return
    images = synthetic_set(TUNING, LIBFPRINT_FINGERS, 6)
    enrol, probes = images[:, :5], images[:, 5]
    socket_dir = tempfile.mkdtemp(prefix="dk-bench-", dir="/tmp")
    os.environ["FP_VIRTUAL_IMAGE"] = os.path.join(socket_dir, "image.sock")
    try:
        with VirtualImageLibfprint(os.environ["FP_VIRTUAL_IMAGE"]) as device:
            theirs = libfprint_identify(device, enrol, probes)
    finally:
        shutil.rmtree(socket_dir, ignore_errors=True)
    ours = our_identify(extractor, matcher, fillers, enrol, probes)
    print(f"libfprint_over_ours_identify_ratio_n{LIBFPRINT_N}: {theirs / ours:.0f} x")


def libfprint_identify(device, enrol, probes) -> float:
    from kiosk.fingerprint import libfprint_print as lp

    t = time.perf_counter()
    mates = [device.enroll(list(row)) for row in enrol]
    template = lp.parse(device.serialize(mates[0]))
    sizes = [len(s) for m in mates for s in lp.parse(device.serialize(m)).samples]
    rng = np.random.default_rng(LIBFPRINT_FILLER_SEED)
    derived = [lp.build(template.with_samples(_filler_samples(LIBFPRINT_FILLER_SEED + i, int(np.median(sizes)), rng)))
               for i in range(LIBFPRINT_N - len(mates))]
    gallery = device.deserialize(derived) + mates
    samples = sum(len(lp.parse(d).samples) for d in derived) + len(sizes)
    print(f"libfprint_gallery_build_n{LIBFPRINT_N}: {time.perf_counter() - t:.1f} s")
    print(f"libfprint_gallery_samples_n{LIBFPRINT_N}: {samples} count")
    print(f"libfprint_minutiae_per_sample_median: {np.median(sizes):.0f} count")
    times, hits = [], 0
    for mate, probe in zip(mates, probes):
        match, seconds = device.identify(gallery, probe)
        times.append(seconds)
        hits += match is not None and match.equal(mate)
    print(f"libfprint_identify_n{LIBFPRINT_N}_full_scan_median: {statistics.median(times):.1f} s")
    print(f"libfprint_identify_n{LIBFPRINT_N}_full_scan_max: {max(times):.1f} s")
    print(f"libfprint_identify_n{LIBFPRINT_N}_correct: {hits}/{len(probes)} count")
    return statistics.median(times)


def _filler_samples(seed: int, count: int, rng) -> list:
    """5 enrolment samples of one synthetic finger: its minutiae moved (±10°, ±15 px) with 15 % left out."""
    from kiosk.fingerprint.libfprint_print import xyt_from_template
    from dakoku_core.fingerprint.template import FingerprintTemplate

    base = minutiae_template(seed, count=count)
    samples = []
    for _ in range(5):
        a, shift = np.radians(rng.uniform(-10, 10)), rng.uniform(-15, 15, 2)
        centre = np.array([base.width / 2, base.height / 2])
        rot = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
        xy = (base.xy - centre) @ rot.T + centre + shift
        keep = (rng.random(len(xy)) > 0.15) & (xy[:, 0] >= 0) & (xy[:, 0] < base.width) & (xy[:, 1] >= 0) & (
            xy[:, 1] < base.height)
        moved = FingerprintTemplate.from_columns(xy[keep, 0], xy[keep, 1], base.angles[keep] - a,
                                                 base.qualities[keep], base.kinds[keep],
                                                 width=base.width, height=base.height)
        samples.append(xyt_from_template(moved))
    return samples


def our_identify(extractor, matcher, fillers, enrol, probes) -> float:
    entries = []
    for i, row in enumerate(enrol):
        codes = consolidate([extractor.extract(im) for im in row], matcher).codes
        entries += [EnrolledTemplate(f"mate{i}", 0, c) for c in codes]
    filler_count = LIBFPRINT_N - len(enrol)
    entries += [EnrolledTemplate(f"filler{k // SUB_TEMPLATES}", 0, c)
                for k, c in enumerate(fillers[:filler_count * SUB_TEMPLATES])]
    identifier = FingerprintIdentifier(Gallery(entries), pattern_limit=LIBFPRINT_N)
    print(f"ours_gallery_entries_n{LIBFPRINT_N}: {len(entries)} count")
    identify_ms, decide_ms, hits = [], [], 0
    for i, probe in enumerate(probes):
        code = matcher.encode(extractor.extract(probe))
        elapsed, outcome = timed(lambda c=code: _identify(identifier, c), repeat=3)
        identify_ms.append(1000 * elapsed)
        decide_ms.append(1000 * timed(lambda im=probe: _identify(identifier, matcher.encode(extractor.extract(im))),
                                      repeat=3)[0])
        hits += outcome == f"mate{i}"
    print(f"ours_identify_n{LIBFPRINT_N}_same_probes_median: {statistics.median(identify_ms):.1f} ms")
    print(f"ours_capture_to_decision_n{LIBFPRINT_N}_same_probes_median: {statistics.median(decide_ms):.1f} ms")
    print(f"ours_identify_n{LIBFPRINT_N}_same_probes_correct: {hits}/{len(probes)} count")
    return statistics.median(decide_ms) / 1000


if __name__ == "__main__":
    main()
