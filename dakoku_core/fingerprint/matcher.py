"""The 1:1 comparison: MCC bit cylinders, LSS-R global score, calibrated to -10 log10(FMR)."""
from __future__ import annotations

from dakoku_core.fingerprint import mcc, relaxation
from dakoku_core.fingerprint.calibration import Calibration, default_calibration
from dakoku_core.fingerprint.mcc import CylinderCode
from dakoku_core.fingerprint.template import FingerprintTemplate


class Matcher:
    """Encodes templates and compares cylinder codes. Stateless apart from its calibration."""

    def __init__(self, calibration: Calibration | None = None):
        self.calibration = calibration or default_calibration()

    @staticmethod
    def encode(template: FingerprintTemplate) -> CylinderCode:
        return mcc.encode(template)

    @staticmethod
    def raw_score(a: CylinderCode, b: CylinderCode) -> float:
        """LSS-R score in [0, 1] (symmetric up to ties)."""
        return relaxation.lss_r_score(a, b, mcc.local_similarities(a, b))

    def score(self, a: CylinderCode, b: CylinderCode) -> float:
        """Calibrated score: -10 log10 of the false match rate at this raw score (40 = FMR 0.01 %)."""
        return float(self.calibration(self.raw_score(a, b)))

    def scores_many(self, probe: CylinderCode, others: list[CylinderCode]) -> list[float]:
        """Calibrated scores of ``probe`` against several codes (the local similarities in one batch)."""
        sims = mcc.local_similarities_many(probe, others)
        return [float(self.calibration(relaxation.lss_r_score(probe, b, s))) for b, s in zip(others, sims)]

    def compare(self, a: FingerprintTemplate, b: FingerprintTemplate) -> float:
        return self.score(self.encode(a), self.encode(b))
