"""1:N identification within the recorder's department and 1:1 verification, with catalogue errors.

The caller passes the candidate employees (the recorder's own department plus help-registered employees); only
their templates are searched. Outcomes: one employee above the identify threshold and ``identify_margin`` above
every other employee -> a match (less than the margin above the next -> ``auth_failed`` cause A); two or more
different employees above it -> ``fingerprint_ambiguous_enter_id`` when the 2-factor mode (login ID / employee
code + finger) is on, else ``fingerprint_ambiguous_contact_admin``; more enrolled fingers than the department
limit -> ``too_many_patterns``; nothing above the threshold -> ``auth_failed`` cause A.

Scores are those of the identify path itself: the 10 best candidates' LSS-R scores are weighted by a second
opinion (:mod:`dakoku_core.fingerprint.pairing`: minutiae paired after the alignment, tolerant of distortion),
then each candidate's score is put on a per-comparison scale that
depends on the template size, an enrolled finger's sub-templates are fused (best + 0.2 x second) and calibrated
to -10 log10 of the false match rate *per enrolled finger*, fitted on the worst of several kinds of data
(:mod:`dakoku_core.fingerprint.identify_calibration`). The threshold for N enrolled fingers is ``identify_base +
10 log10 N`` (identify_base 30: 0.1 % of strangers' searches taken for someone), and the one employee above it must
also beat every other employee by ``identify_margin`` (30 dB), else ``auth_failed``: it bounds a shift that lifts
every stranger's score alike (a kind of print the calibration was not fitted on), not a spike against one finger
(docs/fingerprint.md, the seventh look). Spikes are what :meth:`FingerprintIdentifier.apply_self_check` answers:
a match must then also be one on the gallery's own strangers' tail where it is heavier than the table's
(:mod:`dakoku_core.fingerprint.self_check`, the eighth look). 1:1 verify (the 2-factor mode) decides on the same
per-finger scale (since session 12; before, :class:`Matcher`'s pairwise table).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from dakoku_core.errors import KioskError, Situation
from dakoku_core.fingerprint import mcc, pairing, relaxation
from dakoku_core.fingerprint.gallery import EnrolledTemplate, Gallery
from dakoku_core.fingerprint.identify_calibration import IdentifyCalibration, fuse, identify_calibration
from dakoku_core.fingerprint.matcher import Matcher
from dakoku_core.fingerprint.mcc import CylinderCode
from dakoku_core.fingerprint.policy import DEFAULT_PATTERN_LIMIT, Thresholds
from dakoku_core.fingerprint.self_check import SelfCheck

PREFILTER_CANDIDATES = 30


@dataclass(frozen=True)
class Match:
    employee_key: str
    finger: int
    score: float          # calibrated: -10 log10 FMR per enrolled finger (identify and verify)
    threshold: float


class FingerprintIdentifier:
    """Identification and verification against a gallery; reusable across punches (thread-safe reads)."""

    def __init__(self, gallery: Gallery, matcher: Matcher | None = None, *,
                 thresholds: Thresholds = Thresholds(), pattern_limit: int = DEFAULT_PATTERN_LIMIT,
                 candidates: int = PREFILTER_CANDIDATES, calibration: IdentifyCalibration | None = None):
        self.gallery = gallery
        self.matcher = matcher or Matcher()
        self.base_calibration = self.calibration = calibration or identify_calibration()
        self.self_check: SelfCheck | None = None
        self.thresholds = thresholds
        self.pattern_limit = pattern_limit
        self.candidates = candidates
        self._restricted: tuple[frozenset[str], Gallery] | None = None

    def apply_self_check(self, check: SelfCheck | None) -> None:
        """Decide with the gallery's own strangers' tail as well (:mod:`dakoku_core.fingerprint.self_check`): a
        match must be one by the table's rule *and* by the rule on the more pessimistic of the two curves; None: the
        table alone. Stage 1 is the same in both, so a search running meanwhile sees one consistent stage 1."""
        self.self_check = check
        self.calibration = self.base_calibration if check is None else check.applied_to(self.base_calibration)

    def _gallery_for(self, employee_keys: Iterable[str] | None) -> Gallery:
        if employee_keys is None:
            return self.gallery
        keys = frozenset(employee_keys)
        if self._restricted is None or self._restricted[0] != keys:
            self._restricted = (keys, self.gallery.restricted_to(keys))
        return self._restricted[1]

    def candidate_scores(self, probe: CylinderCode, gallery: Gallery, candidates: int | None = None
                         ) -> list[tuple[EnrolledTemplate, float, int]]:
        """The prefilter's ``candidates`` (default the identifier's) with their raw scores (LSS-R fused with
        :mod:`pairing`'s second opinion for the best ``pairing.CANDIDATES`` of them) and how many pairs each LSS-R
        score averaged."""
        entries = [gallery.entries[i] for i in gallery.prefilter(probe, candidates or self.candidates)]
        codes = [e.code for e in entries]                  # decompressed once each
        sims = mcc.local_similarities_many(probe, codes)
        first = [relaxation.lss_r_pairs(probe, c, s) for c, s in zip(codes, sims)]
        second = set(sorted(range(len(first)), key=lambda k: -first[k][0])[:pairing.CANDIDATES])
        return [(e, pairing.fused_raw(raw, pairing.pairing_score(probe, c, ia, ib) if k in second else 0.0),
                 relaxation.pair_count(*s.shape))
                for k, (e, c, s, (raw, ia, ib)) in enumerate(zip(entries, codes, sims, first))]

    def raw_scores(self, probe: CylinderCode, gallery: Gallery, candidates: int | None = None
                   ) -> dict[str, tuple[float, int]]:
        """Best fused stage-1 score (:func:`fuse` of a finger's sub-templates) and finger per employee."""
        levels: dict[tuple[str, int], list[float]] = {}
        for entry, raw, pairs in self.candidate_scores(probe, gallery, candidates):
            levels.setdefault((entry.employee_key, entry.finger), []).append(self.calibration.comparison(raw, pairs))
        best: dict[str, tuple[float, int]] = {}
        for (employee_key, finger), values in levels.items():
            score = fuse(values)
            if score > best.get(employee_key, (-1.0, 0))[0]:
                best[employee_key] = (score, finger)
        return best

    def scores(self, probe: CylinderCode, gallery: Gallery) -> dict[str, tuple[float, int]]:
        """Best identify-calibrated score (per enrolled finger) and finger per employee among the candidates."""
        return {k: (self.calibration(level), finger) for k, (level, finger) in self.raw_scores(probe, gallery).items()}

    def identify(self, probe: CylinderCode, employee_keys: Iterable[str] | None = None, *,
                 two_factor: bool = False) -> Match:
        """The one employee this probe belongs to, or a KioskError (situation: punch)."""
        gallery = self._gallery_for(employee_keys)
        if gallery.pattern_count() > self.pattern_limit:
            raise KioskError("too_many_patterns", situation=Situation.PUNCH,
                             detail=f"{gallery.pattern_count()} enrolled fingers > limit {self.pattern_limit}")
        threshold = self.thresholds.identify(gallery.pattern_count())
        levels = self.raw_scores(probe, gallery)
        calibration = self.calibration          # read once: the self-check may be applied meanwhile
        match = _decide(levels, self.base_calibration, threshold, self.thresholds.identify_margin, two_factor)
        if calibration is not self.base_calibration:
            # The table's decision stands when it refuses (ambiguous, margin, nobody); the gallery's own strangers
            # may refuse a match too, never turn a refusal into one (its curve lowers a rival's score as well).
            match = _decide(levels, calibration, threshold, self.thresholds.identify_margin, two_factor)
        return match

    def verify(self, probe: CylinderCode, employee_key: str) -> Match:
        """1:1 (2-factor mode: the employee was chosen by login ID / code): one of their enrolled fingers must match,
        on the identify path's own per-finger scale (its calibration fitted on the worst kind, and the gallery's
        self-check over it when applied), at ``Thresholds.verify_for(fingers)``: a stranger claiming this employee
        passes with probability about 10^(-verify/10), whatever the kind of print. Until session 12 it was the
        pairwise 1:1 table, fitted on one kind only, which on other kinds let strangers through far more often
        than its 40 promised (docs/fingerprint.md § 1:1 verify)."""
        gallery = self.gallery.restricted_to((employee_key,))
        fingers = gallery.pattern_count() if employee_key in gallery.employees() else 0
        threshold = self.thresholds.verify_for(fingers)
        # read once: the self-check may be applied meanwhile (stage 1, which raw_scores reads, is the same in both)
        calibration = self.calibration
        # every sub-template of the employee is a candidate, however many fingers they have
        level, finger = (self.raw_scores(probe, gallery, max(len(gallery), 1)).get(employee_key, (0.0, 0))
                         if fingers else (0.0, 0))
        score = min(self.base_calibration(level), calibration(level))
        if score < threshold:
            raise KioskError("auth_failed", situation=Situation.PUNCH, cause_letter="A",
                             detail=f"verify score {score:.1f} < {threshold:.1f} ({fingers} fingers)")
        return Match(employee_key, finger, score, threshold)


def _decide(levels: dict[str, tuple[float, int]], calibration: IdentifyCalibration, threshold: float, margin: float,
            two_factor: bool) -> Match:
    """The identify rule on each employee's best fused stage-1 level, calibrated by ``calibration``."""
    scores = {k: (calibration(level), finger) for k, (level, finger) in levels.items()}
    above = {k: v for k, v in scores.items() if v[0] >= threshold}
    if len(above) >= 2:
        key = "fingerprint_ambiguous_enter_id" if two_factor else "fingerprint_ambiguous_contact_admin"
        raise KioskError(key, situation=Situation.PUNCH, detail=f"{len(above)} employees above {threshold:.1f}")
    if not above:
        raise KioskError("auth_failed", situation=Situation.PUNCH, cause_letter="A",
                         detail=f"no employee above {threshold:.1f}")
    (employee_key, (score, finger)), = above.items()
    rival = max((v[0] for k, v in scores.items() if k != employee_key), default=0.0)
    if score - rival < margin:
        raise KioskError("auth_failed", situation=Situation.PUNCH, cause_letter="A",
                         detail=f"margin {score - rival:.1f} < {margin:.0f} over the next employee")
    return Match(employee_key, finger, score, threshold)
