"""Minutiae extractors behind one port (:class:`MinutiaeExtractor`)."""
from dakoku_core.fingerprint.extractors.base import MinutiaeExtractor, as_grey_image
from dakoku_core.fingerprint.extractors.mindtct import MindtctExtractor

__all__ = ["MinutiaeExtractor", "MindtctExtractor", "as_grey_image"]
