"""The gallery's own strangers: a check of the identify calibration on the prints this deployment enrolled.

The identify table (:mod:`dakoku_core.fingerprint.identify_calibration`) was fitted on the worst of four synthetic
kinds of print. On a kind it was not fitted on it promised 0.1 % of strangers' searches and delivered 5 % (the
seventh look, docs/fingerprint.md): the strangers' tail of another sensor or population is not the tail of the
kinds it saw, and no fit on kinds can promise an unseen one. But every deployment holds a sample of exactly its own
kind: the enrolled fingers are strangers to one another. Searching the gallery with its own sub-templates (each
against every *other* enrolled finger) gives this sensor's and this population's impostor scores, as many as the
gallery has pairs, through the identify path itself.

:func:`self_check` fits those as each kind's stage 2 of the table was fitted (empirical, beyond the top 1 % an
exponential tail at the 95 % upper confidence bound of its mean excess, and the table's ``SAFETY_DB`` over it; in a
gallery so large that fewer than 2 % of its pairs are ever scored, the tail starts in the top half of the scored
ones) into a calibration of this gallery's own. :meth:`FingerprintIdentifier.apply_self_check` then asks a match
to be one by the table's rule *and* by the rule on the more pessimistic, at every level, of that fit and the table
(:meth:`SelfCheck.applied_to`): it never turns a refusal into a match. Where the table is right (the kinds it was
fitted on, in a gallery large enough to say so) nothing changes; where it is wrong, strangers are refused (cause A,
a retry) instead of being punched in as somebody else.

Pairs of enrolled fingers that the kiosk itself would take for one finger at any N (two or more of one finger's
sub-templates at or above the table's threshold for 10,000 fingers against the other; whole fingers are sampled,
so each searched finger brings all its sub-templates) are left out and counted: one
finger enrolled for two employees is what the ambiguity outcomes are for, not a tail of strangers. (Not the
gallery's own threshold: in a heavy-tailed gallery two sub-templates of a finger both above a low threshold happen
by chance, and leaving those out would hide the very tail the check is for.)
"""
from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Callable

import numpy as np

from dakoku_core.fingerprint.calibration import Calibration, fit_tail, raw_at, with_margin, worst_of
from dakoku_core.fingerprint.identify_calibration import SAFETY_DB, IdentifyCalibration, fuse

if TYPE_CHECKING:
    from dakoku_core.fingerprint.gallery import Gallery
    from dakoku_core.fingerprint.identify import FingerprintIdentifier

log = logging.getLogger(__name__)
FingerKey = tuple[str, int]     # (employee key, finger)

MAX_PROBES = 600        # sub-templates searched at most (N = 10,000: about 1.5 min on one core, 6 million pairs)
MIN_PAIRS = 1000        # fewer (a gallery of about 20 fingers or less): the table alone
LOOK_ALIKE_DB = 70.0    # two sub-templates of a finger at this (the table's threshold for 10,000 fingers) or more
                        # against another finger: the kiosk would take them for one finger
TOP_DB = 200.0
TAIL_POINTS = 300       # the tail starts where this many pairs are above it (at most the top 1 %): a large
                        # gallery reads its own pairs deeper before it extrapolates (the ninth look)
QUIET_S = 0.3           # the check resumes this long after the last decision an employee waited for ended
LONGEST_PAUSE_S = 10.0  # and after this long even if one is still running (a hung decision never stalls it)
# How a check is computed: the server reuses a kept check for the same gallery only when this (and the source of
# this package, dakoku_server.self_check_store.CODE_DIGEST) is the same. Change it with the check's parameters.
METHOD = (f"self_check 2: probes {MAX_PROBES}, pairs {MIN_PAIRS}, alike {LOOK_ALIKE_DB}, tail {TAIL_POINTS}, "
          f"safety {SAFETY_DB}, top {TOP_DB}")


@dataclass(frozen=True)
class SelfCheck:
    calibration: Calibration    # a finger's fused stage-1 level -> -10 log10 FMR per enrolled finger, this gallery's
    probes: int                 # sub-templates searched
    pairs: int                  # (probe, other enrolled finger) scores the fit saw, zeros included
    look_alike: int             # finger pairs left out: the kiosk's own rule takes them for one finger
    alike: tuple[tuple[FingerKey, FingerKey], ...] = ()   # which (a manager should see them: 自己診断)
    gallery: str = ""           # gallery_digest of the gallery it was computed on ("": not known)

    def applied_to(self, base: IdentifyCalibration) -> IdentifyCalibration:
        """``base`` with a stage 2 that, at every level, needs the higher of the two stage-1 scores."""
        return IdentifyCalibration(base.by_pairs, worst_of([base.finger, self.calibration], top_db=TOP_DB))

    def raises(self, base: IdentifyCalibration, level_db: float) -> float:
        """How much higher (in the table's dB) a match must score at ``level_db`` than the table alone asks."""
        return max(0.0, float(base.finger(float(raw_at(self.calibration, level_db)))) - level_db)


def _code_digest() -> str:
    """The source of dakoku_core.fingerprint (its synthetic data generator aside): any change to the matcher, the
    prefilter, the calibration or the check changes it, and so a kept check is computed again once after an upgrade
    that touches them (METHOD alone would rely on someone remembering to change it)."""
    digest = hashlib.sha256()
    root = Path(__file__).resolve().parent
    for path in sorted(p for p in root.rglob("*.py") if "synth" not in p.relative_to(root).parts):
        digest.update(str(path.relative_to(root)).encode("utf-8") + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


CODE_DIGEST = _code_digest()


def gallery_digest(gallery: "Gallery", calibration: object) -> str:
    """What a check is of: every sub-template of ``gallery`` (whose, which finger, its code), in any order, and how a
    check of it is computed (METHOD, the fingerprint code, and the identify table it is fitted against, as
    ``repr``). Equal for a gallery rebuilt from the same templates, after a restart or a データ更新 that changed
    nothing."""
    digest = hashlib.sha256(json.dumps([METHOD, CODE_DIGEST, repr(calibration)]).encode("utf-8"))
    for key, finger, code in sorted((e.employee_key, e.finger, e.code_digest()) for e in gallery.entries):
        digest.update(json.dumps([key, finger]).encode("utf-8") + code)
    return digest.hexdigest()


def dumps(check: SelfCheck) -> str:
    """The check as the kiosk keeps it across restarts (JSON)."""
    c = check.calibration
    return json.dumps({"v": 1, "raw": list(c.raw), "calibrated": list(c.calibrated), "tail_slope": c.tail_slope,
                       "probes": check.probes, "pairs": check.pairs, "look_alike": check.look_alike,
                       "alike": [[a[0], a[1], b[0], b[1]] for a, b in check.alike], "gallery": check.gallery})


def loads(text: str) -> SelfCheck:
    """A kept check; ValueError when it is not one (damaged, or written by another version)."""
    try:
        data = json.loads(text)
        raw, calibrated = [float(x) for x in data["raw"]], [float(x) for x in data["calibrated"]]
        slope = float(data["tail_slope"])
        counts = [int(data[k]) for k in ("probes", "pairs", "look_alike")]
        alike = tuple(((str(a), int(fa)), (str(b), int(fb))) for a, fa, b, fb in data.get("alike", ()))
        gallery = str(data.get("gallery", ""))
    except (ValueError, TypeError, KeyError, AttributeError, OverflowError, RecursionError) as exc:
        raise ValueError(f"not a kept self-check: {type(exc).__name__}") from None
    if data.get("v") != 1 or len(raw) != len(calibrated) or len(raw) < 2:
        raise ValueError("not a kept self-check: version or shape")
    if not all(math.isfinite(x) for x in raw + calibrated + [slope]) or slope <= 0 or min(counts) < 0:
        raise ValueError("not a kept self-check: values")
    if any(b <= a for a, b in zip(raw, raw[1:])) or any(b < a for a, b in zip(calibrated, calibrated[1:])):
        raise ValueError("not a kept self-check: not increasing")
    return SelfCheck(Calibration(tuple(raw), tuple(calibrated), slope), *counts, alike=alike, gallery=gallery)


class Foreground:
    """The decisions an employee is waiting for (a capture's extraction, a 1:N search): the self-check runs on the
    same core(s) and, in Python, under the same interpreter lock, so it waits between its searches while one runs
    and for ``QUIET_S`` after (the gap between a capture's extraction and its search). A punch then shares the CPU
    with at most the one search of the check that was under way when it began."""

    def __init__(self, quiet_s: float = QUIET_S, longest_s: float = LONGEST_PAUSE_S,
                 clock: Callable[[], float] = time.monotonic):
        self._cond = threading.Condition()
        self._running = 0
        self._quiet_s, self._longest_s, self._clock = quiet_s, longest_s, clock
        self._ended = -math.inf

    @contextmanager
    def __call__(self):
        with self._cond:
            self._running += 1
        try:
            yield
        finally:
            with self._cond:
                self._running -= 1
                self._ended = self._clock()
                self._cond.notify_all()

    def wait_quiet(self, longest_s: float | None = None) -> float:
        """Block until no decision has run for ``quiet_s`` (at most ``longest_s``); the seconds waited."""
        longest_s = self._longest_s if longest_s is None else longest_s
        started = self._clock()
        with self._cond:
            while True:
                now = self._clock()
                left = longest_s - (now - started)
                if left <= 0:
                    return now - started
                if self._running:
                    self._cond.wait(left)
                    continue
                quiet_for = now - self._ended
                if quiet_for >= self._quiet_s:
                    return now - started
                self._cond.wait(min(left, self._quiet_s - quiet_for))


def self_check(identifier: "FingerprintIdentifier", *, max_probes: int = MAX_PROBES, seed: int = 0,
               stop: Callable[[], bool] = lambda: False) -> SelfCheck | None:
    """Search ``identifier``'s gallery with (a sample of) its own sub-templates; None for a gallery too small to say
    anything (fewer than MIN_PAIRS pairs) or when ``stop()`` turned true on the way (it is asked before each
    search, and may block meanwhile: :meth:`BackgroundSelfCheck` waits there for the punches)."""
    gallery = identifier.gallery
    entries = gallery.entries
    fingers = sorted({(e.employee_key, e.finger) for e in entries})
    if len(fingers) < 2:
        return None
    chosen = _whole_fingers(entries, fingers, max_probes, seed)
    base = identifier.base_calibration
    alike = float(raw_at(base.finger, LOOK_ALIKE_DB))
    by_pair: dict[tuple, list[float]] = {}
    probes_of: dict[tuple, int] = {}
    for k in chosen:
        if stop():
            return None
        probe = entries[int(k)]
        mine = (probe.employee_key, probe.finger)
        probes_of[mine] = probes_of.get(mine, 0) + 1
        levels: dict[tuple, list[float]] = {}
        for entry, raw, pairs in identifier.candidate_scores(probe.code, gallery):
            other = (entry.employee_key, entry.finger)
            if other != mine:
                levels.setdefault(other, []).append(base.comparison(raw, pairs))
        for other, values in levels.items():
            by_pair.setdefault((mine, other), []).append(fuse(values))
    look_alike = {pair for pair, values in by_pair.items() if sum(v >= alike for v in values) >= 2}
    look_alike |= {(b, a) for a, b in look_alike}
    scores = [v for pair, values in by_pair.items() if pair not in look_alike for v in values]
    searched = sum(probes_of.values())
    zeros = searched * (len(fingers) - 1) - sum(len(v) for v in by_pair.values())
    zeros -= sum(probes_of.get(a, 0) for a, _b in look_alike) - sum(len(by_pair.get(p, ())) for p in look_alike)
    values = np.concatenate([np.array(scores, dtype=np.float64), np.zeros(max(zeros, 0))])
    scored = float(np.mean(values > 0)) if len(values) else 0.0
    if len(values) < MIN_PAIRS or scored == 0.0:
        return None
    # The tail starts in the top 1 % of pairs, as the table's fits do; in a large gallery fewer than 1 % of the
    # pairs are candidates at all (30 of N - 1 per search), so there it starts in the top half of the scored ones.
    fitted = with_margin(fit_tail(values, tail_fraction=min(0.01, scored / 2, TAIL_POINTS / len(values))), SAFETY_DB)
    alike_pairs = tuple(sorted((a, b) for a, b in look_alike if a < b))
    return SelfCheck(_strictly_increasing(fitted), searched, len(values), len(alike_pairs), alike_pairs)


def _whole_fingers(entries, fingers: list[tuple], max_probes: int, seed: int) -> list[int]:
    """Every sub-template of randomly chosen fingers, up to ``max_probes`` (all of them in a small gallery): a look-
    alike pair needs two sub-templates of one finger searched."""
    of: dict[tuple, list[int]] = {}
    for k, e in enumerate(entries):
        of.setdefault((e.employee_key, e.finger), []).append(k)
    chosen: list[int] = []
    for f in np.random.default_rng(seed).permutation(len(fingers)):
        if len(chosen) >= max_probes:
            break
        chosen += of[fingers[int(f)]]
    return sorted(chosen)


def _strictly_increasing(cal: Calibration) -> Calibration:
    """The knots with repeated raw scores dropped (the first, lower level kept: the cautious side), as ``loads``
    and ``np.interp`` want them."""
    raw, levels = [cal.raw[0]], [cal.calibrated[0]]
    for r, c in zip(cal.raw[1:], cal.calibrated[1:]):
        if r > raw[-1]:
            raw.append(r)
            levels.append(c)
    if len(raw) < 2:                       # one knot: a second one along the tail
        raw.append(raw[0] + 1.0)
        levels.append(levels[0] + cal.tail_slope)
    return Calibration(tuple(raw), tuple(levels), cal.tail_slope)


def _lowest_priority() -> None:
    """This thread yields the core to every other (Linux: a thread has its own nice value). Between the interpreter
    lock's hand-overs (5 ms), a punch's numpy work then has the core to itself rather than half of it. (A punch
    waiting for the lock held by the check waits until the check is scheduled to hand it over: short while the
    punch leaves the core free, longer if other work of normal priority competes for it.)"""
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 19)
    except (AttributeError, OSError) as error:     # not Linux, or not allowed: the pauses still stand
        log.debug("fingerprint self-check keeps its priority: %s", error)


class BackgroundSelfCheck:
    """One owner's self-check (a kiosk's gallery; on the server, a company's), run in a background thread for the
    newest gallery. Until it finishes, the previous gallery's check stands: the same sensor and people, a finger
    more or less. A run whose gallery was replaced meanwhile is abandoned. A run that fails is logged and leaves the
    previous check standing until the gallery changes again."""

    def __init__(self, run: Callable[..., SelfCheck | None] = self_check, *, initial: SelfCheck | None = None,
                 keep: Callable[[SelfCheck | None], None] | None = None,
                 digest: Callable[["Gallery", object], str] | None = None):
        """``initial``: the check kept from before a restart (it stands until the first gallery's own is done);
        ``keep``: called with each finished check, to keep it across restarts; ``digest`` (the kiosk:
        :func:`gallery_digest`): each check is marked with its gallery's, and a gallery whose digest the check in
        force carries is not checked again (the server keeps its own digests, of row versions, in its database)."""
        self._run, self._keep, self._digest = run, keep, digest
        self._lock = threading.Lock()
        self._newest: "Gallery | None" = None
        self._check: SelfCheck | None = initial
        self._failed: "Gallery | None" = None
        self.finished = threading.Event()     # the newest gallery's check is in force (tests, logs)
        self.foreground = Foreground()        # `with checks.foreground():` around a decision: the check waits

    def attach(self, identifier: "FingerprintIdentifier") -> None:
        """Give ``identifier`` the newest finished check; a new gallery starts its own run, which ``identifier``
        gets when it is done (unless a newer gallery came meanwhile)."""
        with self._lock:
            identifier.apply_self_check(self._check)
            if identifier.gallery is not self._newest:
                self._newest = identifier.gallery
                self.finished.clear()
                threading.Thread(target=self._check_in_background, args=(identifier,), name="fingerprint-self-check",
                                 daemon=True).start()

    @property
    def current(self) -> SelfCheck | None:
        """The check in force (None: the table alone)."""
        return self._check

    @property
    def running(self) -> bool:
        """The newest gallery's own check is not done yet (the previous one stands meanwhile)."""
        newest = self._newest
        return newest is not None and newest is not self._failed and not self.finished.is_set()

    def cancel(self) -> None:
        """Abandon the run under way (it stops before its next search); the check in force stays."""
        with self._lock:
            self._newest = None

    def _paused_or_replaced(self, gallery: "Gallery") -> bool:
        """Before each of the check's searches: first the decisions employees wait for (``foreground``), then
        whether this run is still the newest gallery's."""
        self.foreground.wait_quiet()
        return self._newest is not gallery

    def _check_in_background(self, identifier: "FingerprintIdentifier") -> None:
        _lowest_priority()
        try:
            self._check_and_apply(identifier)
        except Exception:   # noqa: BLE001 - the previous check (or the table alone) keeps deciding
            log.exception("fingerprint self-check failed: the previous check stands until the gallery changes")
            with self._lock:
                if self._newest is identifier.gallery and not self.finished.is_set():
                    self._failed = identifier.gallery    # not running any more (自己診断 must not say it is)

    def _check_and_apply(self, identifier: "FingerprintIdentifier") -> None:
        gallery, started = identifier.gallery, time.monotonic()
        digest = "" if self._digest is None else self._digest(gallery, identifier.base_calibration)
        standing = self._check
        if digest and standing is not None and standing.gallery == digest:
            # the check in force is this very gallery's (kept from before a restart, or a rebuild of the same
            # templates): the run would compute it again, at 30-70 s of a core
            log.info("fingerprint self-check: the check in force is this gallery's own, no run")
            check, kept = standing, True
        else:
            check, kept = self._run(identifier, stop=lambda: self._paused_or_replaced(gallery)), False
            if check is not None and digest:
                check = replace(check, gallery=digest)
        with self._lock:
            if self._newest is not gallery:
                return
            self._check = check
            identifier.apply_self_check(check)
        if self._keep is not None and not kept and self._newest is gallery:
            try:
                self._keep(check)
            except Exception:   # noqa: BLE001 - kept only to shorten the next start's wait: the check stands
                log.exception("could not keep the fingerprint self-check")
        if check is not None:
            n = gallery.pattern_count()
            log.info("fingerprint self-check: %d fingers, %d searches, %d pairs, %d look-alike pairs, +%.1f dB at "
                     "N = %d (%.1f s)", n, check.probes, check.pairs, check.look_alike,
                     check.raises(identifier.base_calibration, identifier.thresholds.identify(n)), n,
                     time.monotonic() - started)
        with self._lock:
            if self._newest is gallery:
                self.finished.set()
