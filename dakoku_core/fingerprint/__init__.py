"""Fingerprint matching for the kiosk: templates, MCC matcher, identification, enrolment, template sealing.

No Kivy and no device code here: a capture adapter hands an 8-bit grey image to an extractor
(:mod:`dakoku_core.fingerprint.extractors`), and everything after that is in this package. Images are never stored.
"""
from dakoku_core.fingerprint.calibration import Calibration, default_calibration
from dakoku_core.fingerprint.crypto import (
    FileKeyProvider, KeyProvider, StaticKeyProvider, TemplateBinding, TemplateCipher, TemplateSealError,
)
from dakoku_core.fingerprint.enroll import CaptureFeedback, Enrollment, assess_capture, check_duplicates, consolidate
from dakoku_core.fingerprint.gallery import EnrolledTemplate, Gallery
from dakoku_core.fingerprint.identify import FingerprintIdentifier, Match
from dakoku_core.fingerprint.iso19794 import from_iso, to_iso
from dakoku_core.fingerprint.matcher import Matcher
from dakoku_core.fingerprint.mcc import CylinderCode
from dakoku_core.fingerprint.policy import DEFAULT_PATTERN_LIMIT, Thresholds
from dakoku_core.fingerprint.template import FingerprintTemplate, MinutiaKind, TemplateFormatError

__all__ = [
    "Calibration", "default_calibration", "FileKeyProvider", "KeyProvider", "StaticKeyProvider",
    "TemplateBinding", "TemplateCipher", "TemplateSealError", "CaptureFeedback", "Enrollment", "assess_capture",
    "check_duplicates", "consolidate", "EnrolledTemplate", "Gallery", "FingerprintIdentifier", "Match",
    "from_iso", "to_iso", "Matcher", "CylinderCode", "DEFAULT_PATTERN_LIMIT", "Thresholds",
    "FingerprintTemplate", "MinutiaKind", "TemplateFormatError",
]
