"""Pins libfprint's internal print serialisation (b"FP3" + GVariant) as kiosk.fingerprint.libfprint_print reads
and writes it, and the bozorth3 XYT convention of the prints it builds. The speed benchmark's libfprint gallery
(1,000 prints, most derived with synthetic minutiae) stands on these; if libfprint changes its format, these fail.
"""
from __future__ import annotations

import os

import numpy as np
import pytest

from kiosk.fingerprint import libfprint_print as lp
from dakoku_core.fingerprint.extractors import MindtctExtractor
from dakoku_core.fingerprint.synth import TEST, impressions_of
from dakoku_core.fingerprint.synth.minutiae import minutiae_template

pytestmark = pytest.mark.timeout(120)

GENUINE, IMPOSTOR = TEST.start + 70, TEST.start + 71
ENROL, PROBE = slice(0, 5), 6


@pytest.fixture(scope="module")
def images():
    return {GENUINE: impressions_of(GENUINE, PROBE + 1), IMPOSTOR: impressions_of(IMPOSTOR, 1)}


@pytest.fixture
def libfprint(fprint, clean_env, short_dir):
    from kiosk.fingerprint.libfprint_virtual import VirtualImageLibfprint

    path = os.path.join(short_dir, "image.sock")
    clean_env.setenv("FP_VIRTUAL_IMAGE", path)
    with VirtualImageLibfprint(path) as device:
        yield device


@pytest.fixture
def enrolled(libfprint, images):
    """libfprint's own enrolment of the genuine finger (5 stages) and its serialisation."""
    print_ = libfprint.enroll(images[GENUINE][ENROL])
    return print_, libfprint.serialize(print_)


def test_libfprint_enrolment_has_the_documented_layout_and_round_trips_byte_for_byte(libfprint, enrolled):
    _print, data = enrolled
    parsed = lp.parse(data)
    assert data[:3] == b"FP3"
    assert (parsed.print_type, parsed.driver, parsed.device_stored) == (lp.NBIS, "virtual_image", False)
    assert (parsed.username, parsed.description, parsed.enroll_date) == (None, None, lp.NO_DATE)
    assert len(parsed.samples) == 5                                  # image devices enrol in 5 stages
    for sample in parsed.samples:
        assert 12 <= len(sample) <= lp.MAX_XYT
        assert 0 <= min(sample.x) and max(sample.x) < 320 and 0 <= min(sample.y) and max(sample.y) <= 384
        assert all(-180 < t <= 180 for t in sample.theta)
        assert list(zip(sample.x, sample.y)) == sorted(zip(sample.x, sample.y))    # sorted by x, then y
    assert lp.build(parsed) == data
    [again] = libfprint.deserialize([lp.build(parsed)])
    assert libfprint.serialize(again) == data


def test_our_minutiae_converted_to_xyt_are_libfprints_own(enrolled, images):
    """Same image, our extractor + xyt_from_template vs libfprint's detection: y flipped, +180 degrees, sorted."""
    parsed = lp.parse(enrolled[1])
    extractor = MindtctExtractor()
    for image, theirs in zip(images[GENUINE][ENROL], parsed.samples):
        ours = lp.xyt_from_template(extractor.extract(image))
        assert list(zip(ours.x, ours.y)) == sorted(zip(ours.x, ours.y))
        a = np.array([theirs.x, theirs.y]).T[:, None, :]
        b = np.array([ours.x, ours.y]).T[None, :, :]
        nearest = np.sqrt(((a - b) ** 2).sum(-1)).argmin(1)
        close = np.sqrt(((a - b) ** 2).sum(-1)).min(1) <= 2
        turn = (np.array(theirs.theta) - np.array(ours.theta)[nearest] + 180) % 360 - 180
        assert close.mean() >= 0.9 and np.median(np.abs(turn[close])) <= 10


def test_prints_we_build_are_identified_by_libfprint(libfprint, enrolled, images):
    """A print holding our minutiae is matched by libfprint's bozorth3 identify; one holding synthetic minutiae
    (the benchmark's filler) is read and compared but matches neither probe."""
    parsed = lp.parse(enrolled[1])
    extractor = MindtctExtractor()
    ours = parsed.with_samples(lp.xyt_from_template(extractor.extract(im)) for im in images[GENUINE][ENROL])
    filler = parsed.with_samples(lp.xyt_from_template(minutiae_template(7_000_000 + i)) for i in range(5))
    gallery = libfprint.deserialize([lp.build(filler), lp.build(ours)])
    match, seconds = libfprint.identify(gallery, images[GENUINE][PROBE])
    assert match is not None and match.equal(gallery[1]) and seconds < 5
    match, _seconds = libfprint.identify(gallery, images[IMPOSTOR][0])
    assert match is None


def test_other_layouts_are_refused(fprint):
    from gi.repository import GLib

    with pytest.raises(lp.PrintFormatError):
        lp.parse(b"FP2" + b"\0" * 40)
    raw = GLib.Variant(lp.PRINT_TYPE, (1, "virtual_image", "0", False, 0, None, None, lp.NO_DATE, {},
                                       GLib.Variant("ay", b"")))
    with pytest.raises(lp.PrintFormatError):
        lp.parse(b"FP3" + raw.get_data_as_bytes().get_data())
    with pytest.raises(lp.PrintFormatError):
        lp.XytSample((1, 2), (3,), (4, 5))
