import numpy as np

from dakoku_core.fingerprint import Thresholds
from dakoku_core.fingerprint.mcc import local_similarities

from .conftest import FINGERS, IMPRESSIONS, rotated


def test_same_finger_scores_high(tiny_codes, matcher):
    scores = [matcher.score(row[0], row[j]) for row in tiny_codes for j in range(1, IMPRESSIONS)]
    assert np.median(scores) >= Thresholds().verify + 20
    assert np.mean(np.array(scores) >= Thresholds().verify) >= 0.8


def test_different_fingers_score_low(tiny_codes, matcher):
    scores = [matcher.score(tiny_codes[f][0], tiny_codes[g][0]) for f in range(FINGERS) for g in range(f + 1, FINGERS)]
    assert max(scores) < Thresholds().verify


def test_genuine_beats_every_impostor_for_each_probe(tiny_codes, matcher):
    for f in range(FINGERS):
        mate = matcher.raw_score(tiny_codes[f][1], tiny_codes[f][0])
        others = [matcher.raw_score(tiny_codes[f][1], tiny_codes[g][0]) for g in range(FINGERS) if g != f]
        assert mate > max(others)


def test_rotation_and_translation_invariance(tiny_templates, matcher):
    a, b = tiny_templates[0][0], tiny_templates[0][1]
    base = matcher.raw_score(matcher.encode(a), matcher.encode(b))
    # MCC only pairs minutiae whose directions differ by at most 90 degrees (fingers are not placed upside
    # down); these two impressions already differ by an unknown placement, so the test turns by 20 at most.
    for degrees, dx, dy in ((20, 0, 0), (-20, 25, -40), (10, -60, 15)):
        moved = matcher.raw_score(matcher.encode(a), matcher.encode(rotated(b, degrees, dx, dy)))
        assert abs(moved - base) <= 0.1 * base, (degrees, moved, base)
    self_score = matcher.raw_score(matcher.encode(a), matcher.encode(a))
    for degrees in (-80, 45, 80):
        self_moved = matcher.raw_score(matcher.encode(a), matcher.encode(rotated(a, degrees, 30, 30)))
        assert abs(self_moved - self_score) <= 0.05 * self_score


def test_local_similarity_is_one_on_identical_cylinders(tiny_codes):
    code = tiny_codes[2][0]
    sims = local_similarities(code, code)
    assert np.allclose(np.diag(sims), 1.0, atol=1e-5)
    assert sims.min() >= 0.0 and sims.max() <= 1.0 + 1e-6


def test_empty_templates_score_zero(matcher):
    from dakoku_core.fingerprint import FingerprintTemplate
    empty = matcher.encode(FingerprintTemplate(np.zeros((0, 5)), 320, 384))
    assert len(empty) == 0
    assert matcher.raw_score(empty, empty) == 0.0
