"""Open-set identification scores in the kiosk's own flow, for fitting and for reporting.

Protocol (the accuracy benchmark's): the first half of the fingers enrol from impressions 0-3 through
:func:`consolidate` (sub-templates, as the kiosk stores them); impressions 4.. of an enrolled finger are genuine
searches; every impression of the other half is a stranger's search. Each search runs the identify path itself
(:meth:`FingerprintIdentifier.raw_scores`: prefilter, LSS-R on the candidates, best per enrolled finger), so what
is fitted and reported is the score the kiosk decides on, not pairwise comparisons. A finger the prefilter did
not put among the candidates scores 0, as in production.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

from dakoku_core.errors import KioskError
from dakoku_core.fingerprint.enroll import consolidate
from dakoku_core.fingerprint.gallery import EnrolledTemplate, Gallery
from dakoku_core.fingerprint.identify import FingerprintIdentifier
from dakoku_core.fingerprint.identify_calibration import fuse, identify_calibration
from dakoku_core.fingerprint.matcher import Matcher
from dakoku_core.fingerprint.template import FingerprintTemplate

ENROL_CAPTURES = 4


@dataclass(frozen=True)
class OpenSetScores:
    """Raw identify-path scores. ``genuine``: each genuine search's score for its own finger (0 if not a
    candidate); ``rival``: each genuine search's best other finger; ``impostor_top``: each stranger search's
    best finger; ``impostor_second``: its second best; ``impostor_pairs``: every (search, other enrolled finger)
    score, zeros included;
    ``genuine_enrolled``: whether each genuine search's finger was enrolled (a failed enrolment is a miss in FNIR
    as the kiosk sees it, and counted apart as failure to enrol)."""

    genuine: np.ndarray
    rival: np.ndarray
    impostor_top: np.ndarray
    impostor_pairs: np.ndarray
    enrolled: int
    enrolment_failed: int
    genuine_enrolled: np.ndarray | None = None
    impostor_second: np.ndarray | None = None

    def per_finger_fmr(self, raw_threshold: float) -> float:
        return float(np.mean(self.impostor_pairs >= raw_threshold))


def enrol_half(templates: Sequence[Sequence[FingerprintTemplate]], matcher: Matcher,
               extra: Sequence[Sequence[FingerprintTemplate]] = (), enrolled: int | None = None
               ) -> tuple[list[EnrolledTemplate], int]:
    """Entries of the first ``enrolled`` fingers of ``templates`` (default half; keys ``f<i>``) plus every finger
    of ``extra`` (``x<i>``)."""
    entries, failed = [], 0
    fingers = [(f"f{f}", templates[f]) for f in range(len(templates) // 2 if enrolled is None else enrolled)]
    fingers += [(f"x{f}", row) for f, row in enumerate(extra)]
    for key, row in fingers:
        try:
            enrolment = consolidate(row[:ENROL_CAPTURES], matcher)
        except KioskError:
            failed += 1
            continue
        entries += [EnrolledTemplate(key, 1, code) for code in enrolment.codes]
    return entries, failed


@dataclass(frozen=True)
class Search:
    own: str | None                               # the searching finger's key when it is enrolled
    candidates: list[tuple[str, float, int]]      # (employee key, raw LSS-R score, pairs averaged)


@dataclass(frozen=True)
class SearchRun:
    searches: list[Search]
    keys: frozenset[str]                          # the enrolled fingers (one per key)
    enrolment_failed: int

    @property
    def enrolled(self) -> int:
        return len(self.keys)


def run_searches(templates: Sequence[Sequence[FingerprintTemplate]], matcher: Matcher | None = None, *,
                 extra: Sequence[Sequence[FingerprintTemplate]] = (), enrolled: int | None = None) -> SearchRun:
    """Every search of the protocol through :meth:`FingerprintIdentifier.candidate_scores` (raw, not decided).
    ``enrolled`` (default half the fingers): the first fingers enrolled; every finger after them is a stranger,
    so a set can have more strangers than enrolled fingers (the tail of a kind's TUNING fit)."""
    matcher = matcher or Matcher()
    half = len(templates) // 2 if enrolled is None else enrolled
    entries, failed = enrol_half(templates, matcher, extra, half)
    gallery = Gallery(entries)
    identifier = FingerprintIdentifier(gallery, matcher)
    searches = []
    for f, row in enumerate(templates):
        own = f"f{f}" if f < half else None
        for t in row[ENROL_CAPTURES:] if own else row:
            found = identifier.candidate_scores(matcher.encode(t), gallery)
            searches.append(Search(own, [(e.employee_key, raw, pairs) for e, raw, pairs in found]))
    return SearchRun(searches, gallery.employees(), failed)


def summarise(run: SearchRun, normalise: Callable[[float, int], float] | None = None) -> OpenSetScores:
    """Per search, the fused ``normalise``d score of each enrolled finger (default: the production stage 1)."""
    normalise = normalise or identify_calibration().comparison
    genuine, rival, top, second, pairs, enrolled = [], [], [], [], [], []
    for search in run.searches:
        levels: dict[str, list[float]] = {}
        for key, raw, n in search.candidates:
            levels.setdefault(key, []).append(normalise(raw, n))
        best = {key: fuse(values) for key, values in levels.items()}
        others = [s for k, s in best.items() if k != search.own]
        enrolled_own = search.own in run.keys
        pairs += others + [0.0] * (run.enrolled - enrolled_own - len(others))
        if search.own is not None:
            genuine.append(best.get(search.own, 0.0))
            enrolled.append(enrolled_own)
            rival.append(max(others, default=0.0))
        else:
            ranked = sorted(others, reverse=True) + [0.0, 0.0]
            top.append(ranked[0])
            second.append(ranked[1])
    return OpenSetScores(np.array(genuine), np.array(rival), np.array(top), np.array(pairs), run.enrolled,
                         run.enrolment_failed, np.array(enrolled, dtype=bool), np.array(second))


def open_set_scores(templates: Sequence[Sequence[FingerprintTemplate]], matcher: Matcher | None = None, *,
                    extra: Sequence[Sequence[FingerprintTemplate]] = ()) -> OpenSetScores:
    return summarise(run_searches(templates, matcher, extra=extra))


def kind_run(kind: str, split: str, fingers: int, enrolled: int | None = None) -> SearchRun:
    """:func:`run_searches` on a kind's cached templates, itself cached (raw scores do not depend on calibration).
    ``enrolled`` (default ``fingers // 2``) fingers enrol, the rest are strangers."""
    import pickle

    from dakoku_core.fingerprint import pairing
    from dakoku_core.fingerprint.identify import PREFILTER_CANDIDATES
    from dakoku_core.fingerprint.synth.dataset import cache_dir
    from dakoku_core.fingerprint.synth.kinds import KINDS_VERSION, kind_templates
    path = cache_dir() / f"searches-v{KINDS_VERSION}-{kind}-{split}-{fingers}-c{PREFILTER_CANDIDATES}"
    enrol = "" if enrolled in (None, fingers // 2) else f"-e{enrolled}"
    path = path.with_name(path.name + f"{enrol}-p{pairing.VERSION}-{pairing.CANDIDATES}.pickle")
    if path.is_file():
        return pickle.loads(path.read_bytes())
    run = run_searches(kind_templates(kind, split, fingers), enrolled=enrolled)
    path.write_bytes(pickle.dumps(run))
    return run
