"""Minutiae extractors behind one port (:class:`MinutiaeExtractor`)."""
from kiosk.fingerprint.extractors.base import MinutiaeExtractor, as_grey_image
from kiosk.fingerprint.extractors.mindtct import MindtctExtractor

__all__ = ["MinutiaeExtractor", "MindtctExtractor", "as_grey_image"]
