"""Enrolment: several captures of one finger -> sub-templates, with per-capture feedback and a duplicate check.

A capture is usable when it has enough minutiae of enough quality. The captures that agree with the best one
(calibrated score at least the verify threshold) form the enrolment; the best capture and up to two others that
add the most (the least similar of the agreeing ones, so more of the finger is covered) are kept as
sub-templates. Fewer than two agreeing usable captures -> ``enrollment_failed``. Images are never kept.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np

from dakoku_core.domain.model import Employee
from dakoku_core.errors import KioskError, Situation
from dakoku_core.fingerprint.gallery import Gallery
from dakoku_core.fingerprint.matcher import Matcher
from dakoku_core.fingerprint.mcc import CylinderCode
from dakoku_core.fingerprint.policy import Thresholds
from dakoku_core.fingerprint.template import FingerprintTemplate

MIN_MINUTIAE = 12
MIN_MEAN_QUALITY = 20.0
MIN_CYLINDERS = 8
MIN_AGREEING = 2
MAX_SUB_TEMPLATES = 3
DUPLICATE_CANDIDATES = 20
DUPLICATE_PAIRWISE_AGREEMENT = 2   # sub-templates at the pairwise duplicate threshold (one also on the identify scale)


@dataclass(frozen=True)
class CaptureFeedback:
    """What the register screen shows after each capture."""

    index: int
    minutiae: int
    quality: float            # mean minutia quality, 0..100
    usable: bool
    reason: str = ""          # "", "too_few_minutiae", "low_quality", "does_not_match_others"


@dataclass(frozen=True)
class Enrollment:
    templates: tuple[FingerprintTemplate, ...]
    codes: tuple[CylinderCode, ...]
    feedback: tuple[CaptureFeedback, ...]


def assess_capture(template: FingerprintTemplate, index: int, code: CylinderCode | None = None) -> CaptureFeedback:
    """Quality feedback for one capture (shown while capturing)."""
    quality = float(np.mean(template.qualities)) if len(template) else 0.0
    cylinders = len(code) if code is not None else len(template)
    if len(template) < MIN_MINUTIAE or cylinders < MIN_CYLINDERS:
        return CaptureFeedback(index, len(template), quality, False, "too_few_minutiae")
    if quality < MIN_MEAN_QUALITY:
        return CaptureFeedback(index, len(template), quality, False, "low_quality")
    return CaptureFeedback(index, len(template), quality, True)


def consolidate(captures: Sequence[FingerprintTemplate], matcher: Matcher | None = None,
                thresholds: Thresholds = Thresholds()) -> Enrollment:
    """Sub-templates from several captures of one finger, or ``KioskError('enrollment_failed')``."""
    matcher = matcher or Matcher()
    codes = [matcher.encode(t) for t in captures]
    feedback = [assess_capture(t, i, c) for i, (t, c) in enumerate(zip(captures, codes))]
    usable = [i for i, f in enumerate(feedback) if f.usable]
    if len(usable) < MIN_AGREEING:
        raise KioskError("enrollment_failed", situation=Situation.REGISTRATION, detail=f"{len(usable)} usable captures")
    primary, scores = agreement([codes[i] for i in usable], matcher)
    primary = usable[primary]
    scores = {usable[k]: s for k, s in enumerate(scores)}
    agreeing = [i for i in usable if i == primary or scores[i] >= thresholds.verify]
    for i in usable:
        if i not in agreeing:
            feedback[i] = CaptureFeedback(i, feedback[i].minutiae, feedback[i].quality, False, "does_not_match_others")
    if len(agreeing) < MIN_AGREEING:
        raise KioskError("enrollment_failed", situation=Situation.REGISTRATION, detail="captures do not agree")
    others = sorted((i for i in agreeing if i != primary), key=lambda i: scores[i])
    kept = [primary] + others[:MAX_SUB_TEMPLATES - 1]
    return Enrollment(tuple(captures[i] for i in kept), tuple(codes[i] for i in kept), tuple(feedback))


def agreement(codes: Sequence[CylinderCode], matcher: Matcher | None = None) -> tuple[int, list[float]]:
    """The primary of several captures of one finger (the highest summed pairwise score against the others) and
    each capture's score against it (the primary's own: 0). Enrolment keeps the captures at the verify threshold;
    the server refuses a registration whose templates are not all there (one rule, two places)."""
    matcher = matcher or Matcher()
    scores = np.zeros((len(codes), len(codes)))
    for a in range(len(codes)):
        for b in range(a + 1, len(codes)):
            scores[a, b] = scores[b, a] = matcher.score(codes[a], codes[b])
    primary = int(np.argmax(scores.sum(axis=1)))
    return primary, [float(x) for x in scores[primary]]


def duplicate_agreement(enrollment: Enrollment) -> int:
    """How many of the new sub-templates must reach one enrolled finger at the pairwise duplicate threshold for it to
    be a duplicate: two (one for a registration of one template, which the server accepts, all of one finger), and
    one of them must also reach it on the identify path's scale (:func:`identify_scale_reached`). Session 11 asked
    every sub-template on the pairwise scale alone; session 12's rule was chosen on REPORTING prints because it
    refuses fewer new fingers *and* finds at least as many true duplicates on every kind
    (docs/fingerprint.md § False duplicates, benchmarks/fingerprint_duplicates.py)."""
    return min(DUPLICATE_PAIRWISE_AGREEMENT, len(enrollment.codes))


def identify_scale_reached(enrollment: Enrollment, gallery: Gallery, fingers: set[tuple[str, int]],
                           thresholds: Thresholds = Thresholds()) -> set[tuple[str, int]]:
    """Which of ``fingers`` any new sub-template reaches when searched as a punch is (prefilter, stage 1, the
    finger's sub-templates fused, stage 2 per enrolled finger) at ``Thresholds.duplicate_identify`` for the
    gallery's enrolled fingers. The table alone: the gallery's self-check only raises what a match needs, which
    here would mean more missed duplicates, the costly error."""
    from dakoku_core.fingerprint.identify import FingerprintIdentifier
    from dakoku_core.fingerprint.identify_calibration import fuse
    identifier = FingerprintIdentifier(gallery)
    calibration = identifier.base_calibration
    threshold = thresholds.duplicate_identify(gallery.pattern_count())
    reached: set[tuple[str, int]] = set()
    for code in enrollment.codes:
        levels: dict[tuple[str, int], list[float]] = {}
        for entry, raw, pairs in identifier.candidate_scores(code, gallery):
            key = (entry.employee_key, entry.finger)
            if key in fingers:
                levels.setdefault(key, []).append(calibration.comparison(raw, pairs))
        reached |= {key for key, values in levels.items() if calibration(fuse(values)) >= threshold}
        if reached >= fingers:
            break
    return reached


def duplicate_scores(enrollment: Enrollment, gallery: Gallery, matcher: Matcher | None = None,
                     thresholds: Thresholds = Thresholds()) -> dict[tuple[str, int], tuple[int, float]]:
    """Per enrolled finger (employee key, finger) that any of the new sub-templates reached: how many of them
    scored at or above the duplicate threshold against it (each sub-template's best over that finger's
    sub-templates among its prefilter candidates), and the best score."""
    matcher = matcher or Matcher()
    threshold = thresholds.duplicate(len(gallery))
    found: dict[tuple[str, int], tuple[int, float]] = {}
    for code in enrollment.codes:
        best_of: dict[tuple[str, int], float] = {}
        for index in gallery.prefilter(code, DUPLICATE_CANDIDATES):
            entry = gallery.entries[index]
            key = (entry.employee_key, entry.finger)
            best_of[key] = max(best_of.get(key, -np.inf), matcher.score(code, entry.code))
        for key, score in best_of.items():
            if score >= threshold:
                count, best = found.get(key, (0, -np.inf))
                found[key] = (count + 1, max(best, score))
    return found


def duplicate_fingers(enrollment: Enrollment, gallery: Gallery, matcher: Matcher | None = None,
                      thresholds: Thresholds = Thresholds()) -> list[tuple[float, tuple[str, int]]]:
    """The enrolled fingers the new one duplicates by the rule in force (:func:`duplicate_agreement`), each with its
    best pairwise score: (score, (employee key, finger))."""
    found = duplicate_scores(enrollment, gallery, matcher, thresholds)
    needed = duplicate_agreement(enrollment)
    agreeing = [(best, key) for key, (count, best) in found.items() if count >= needed]
    if agreeing:        # the identify path only for the rare candidates: most enrolments stop here
        reached = identify_scale_reached(enrollment, gallery, {key for _best, key in agreeing}, thresholds)
        agreeing = [(best, key) for best, key in agreeing if key in reached]
    return agreeing


def check_duplicates(enrollment: Enrollment, employee_key: str, gallery: Gallery,
                     employees: Mapping[str, Employee], matcher: Matcher | None = None,
                     thresholds: Thresholds = Thresholds()) -> None:
    """Raise if the new finger is already enrolled in the company-wide ``gallery``.

    A duplicate is an enrolled finger that two new sub-templates reach at the pairwise duplicate threshold and one
    of them on the identify path's scale (:func:`duplicate_agreement`). Until session 11 one pairwise comparison was
    enough, and on prints the 1:1 table was not fitted to that refused most new employees' fingers as registered
    already (95.5 % of new fingers at about 140 enrolled on small_sensor prints, fresh); session 11 asked every
    sub-template, which still refused a third (docs/fingerprint.md § False duplicates). Another employee's ->
    ``credential_duplicate``; this employee's own ->
    ``credential_registered_to_employee`` with the employee's name and code. The strongest such finger decides.
    """
    agreeing = duplicate_fingers(enrollment, gallery, matcher, thresholds)
    if not agreeing:
        return
    best, (owner, _finger) = max(agreeing)
    if owner != employee_key:
        raise KioskError("credential_duplicate", situation=Situation.REGISTRATION, detail=f"score {best:.1f}")
    employee = employees.get(owner)
    context = {"name": employee.display_name, "code": employee.code} if employee else {"name": "", "code": owner}
    raise KioskError("credential_registered_to_employee", situation=Situation.REGISTRATION, context=context,
                     detail=f"score {best:.1f}")
