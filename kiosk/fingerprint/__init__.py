"""Fingerprint matching for the kiosk: templates, MCC matcher, identification, enrolment, template sealing.

No Kivy and no device code here: a capture adapter hands an 8-bit grey image to an extractor
(:mod:`kiosk.fingerprint.extractors`), and everything after that is in this package. Images are never stored.
"""
from kiosk.fingerprint.calibration import Calibration, default_calibration
from kiosk.fingerprint.crypto import (
    FileKeyProvider, KeyProvider, StaticKeyProvider, TemplateBinding, TemplateCipher, TemplateSealError,
)
from kiosk.fingerprint.enroll import CaptureFeedback, Enrollment, assess_capture, check_duplicates, consolidate
from kiosk.fingerprint.gallery import EnrolledTemplate, Gallery
from kiosk.fingerprint.identify import FingerprintIdentifier, Match
from kiosk.fingerprint.iso19794 import from_iso, to_iso
from kiosk.fingerprint.matcher import Matcher
from kiosk.fingerprint.mcc import CylinderCode
from kiosk.fingerprint.policy import DEFAULT_PATTERN_LIMIT, Thresholds
from kiosk.fingerprint.template import FingerprintTemplate, MinutiaKind, TemplateFormatError

__all__ = [
    "Calibration", "default_calibration", "FileKeyProvider", "KeyProvider", "StaticKeyProvider",
    "TemplateBinding", "TemplateCipher", "TemplateSealError", "CaptureFeedback", "Enrollment", "assess_capture",
    "check_duplicates", "consolidate", "EnrolledTemplate", "Gallery", "FingerprintIdentifier", "Match",
    "from_iso", "to_iso", "Matcher", "CylinderCode", "DEFAULT_PATTERN_LIMIT", "Thresholds",
    "FingerprintTemplate", "MinutiaKind", "TemplateFormatError",
]
