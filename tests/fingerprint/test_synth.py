import numpy as np

from dakoku_core.fingerprint.synth.dataset import REPORTING, TEST, TUNING, impressions_of, synthetic_set
from dakoku_core.fingerprint.synth.impression import SENSOR_SHAPE, ImpressionParams
from dakoku_core.fingerprint.synth.master import make_master
from dakoku_core.fingerprint.synth.minutiae import minutiae_template


def test_same_seed_same_images_and_different_seeds_differ():
    a = impressions_of(TEST.start + 100, 2)
    b = impressions_of(TEST.start + 100, 2)
    c = impressions_of(TEST.start + 101, 2)
    assert a.dtype == np.uint8 and a.shape == (2,) + SENSOR_SHAPE
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)
    assert not np.array_equal(a[0], a[1])                 # impressions of one finger differ


def test_master_is_a_ridge_pattern():
    m = make_master(TEST.start + 7)
    inside = m.mask > 0.99
    assert -1.0 <= m.ridges.min() and m.ridges.max() <= 1.0
    assert 0.3 < np.mean(m.ridges[inside] > 0) < 0.7          # ridges and valleys in about equal parts
    assert 8.5 <= m.period <= 10.5


def test_seed_ranges_are_disjoint():
    ranges = [TUNING, REPORTING, TEST]
    for i, a in enumerate(ranges):
        for b in ranges[i + 1:]:
            assert a.stop <= b.start or b.stop <= a.start


def test_sets_are_cached_by_seed_range_and_parameters(tmp_path, monkeypatch):
    monkeypatch.setenv("DAKOKU_FP_CACHE", str(tmp_path))
    params = ImpressionParams(noise=5.0)
    first = synthetic_set(TEST, 1, 2, params)
    assert len(list(tmp_path.glob("*-test.npz"))) == 1
    assert np.array_equal(synthetic_set(TEST, 1, 2, params), first)
    synthetic_set(TEST, 1, 2)                               # other parameters: another file
    assert len(list(tmp_path.glob("*-test.npz"))) == 2


def test_minutiae_level_generator_is_deterministic():
    assert minutiae_template(5).same_as(minutiae_template(5))
    assert not minutiae_template(5).same_as(minutiae_template(6))
    assert 40 <= len(minutiae_template(5)) <= 60
