"""Decision thresholds on calibrated scores (score = -10 log10 FMR: per comparison on the pairwise scale, per
enrolled finger on the identify path's).

- 1:1 verify (the 2-factor mode): ``verify`` (default 40: 0.01 % of strangers' claims, SourceAFIS's convention) +
  10 log10(the employee's enrolled fingers), on the identify path's per-finger scale (since session 12; before, the
  pairwise table fitted on one kind, docs/fingerprint.md § 1:1 verify). Enrolment's agreement between captures
  still uses ``verify`` on the pairwise table (:func:`dakoku_core.fingerprint.enroll.consolidate`).
- 1:N identify: on the identify path's own scale (-10 log10 FMR per *enrolled finger*, fitted on the worst of
  several kinds of data, :mod:`dakoku_core.fingerprint.identify_calibration`). A stranger's search meets N enrolled
  fingers, so the per-finger FMR must fall as N grows to keep the false identification rate per search (FPIR)
  near 10^(-identify_base/10): threshold = identify_base + 10 log10 N, N = enrolled fingers searched (at most the
  department's pattern limit). identify_base 30: FPIR 0.1 %. And the match must beat the best other employee by
  ``identify_margin`` (30 dB): on this scale the gap between the two best strangers' scores is exponential with mean
  10 log10 e = 4.34 dB for any N and any shift that a kind of data adds to every stranger alike, so the margin alone
  keeps such a shift's FPIR near 0.1 %; it does not bound a spike against one finger, which is what a held-out kind
  showed (docs/fingerprint.md, the seventh look).
- duplicate check at enrolment: each new sub-template against its prefilter candidates among the company's
  enrolled templates on the pairwise scale, at ``duplicate_base`` + 10 log10(N templates); an enrolled finger is a
  duplicate when two new sub-templates reach it there and one of them also reaches it on the identify path's scale
  at ``duplicate_identify_base`` + 10 log10(N fingers) (session 12, ``enroll.duplicate_fingers``). One pairwise
  comparison (until session 11) or every sub-template pairwise (session 11) refused most or a third of new fingers
  on prints the pairwise table was not fitted on (docs/fingerprint.md § False duplicates).
"""
from __future__ import annotations

from dataclasses import dataclass
from math import log10


@dataclass(frozen=True)
class Thresholds:
    verify: float = 40.0
    identify_base: float = 30.0
    identify_margin: float = 30.0       # dB over the best other employee: 4.34 dB x ln(1,000)
    duplicate_base: float = 30.0
    duplicate_identify_base: float = 25.0   # on the identify path's per-finger scale (session 12, REPORTING)

    def identify(self, gallery_size: int) -> float:
        return self.identify_base + 10.0 * log10(max(gallery_size, 1))

    def verify_for(self, fingers: int) -> float:
        """1:1 verify against an employee's ``fingers`` enrolled fingers, on the identify path's per-finger scale:
        10^(-verify/10) / fingers per finger, so a stranger's claim, which meets every one of them, passes with
        probability about 10^(-verify/10)."""
        return self.verify + 10.0 * log10(max(fingers, 1))

    def duplicate(self, gallery_size: int) -> float:
        return self.duplicate_base + 10.0 * log10(max(gallery_size, 1))

    def duplicate_identify(self, fingers: int) -> float:
        return self.duplicate_identify_base + 10.0 * log10(max(fingers, 1))


DEFAULT_PATTERN_LIMIT = 1000      # enrolled fingers per department; settings may change it
