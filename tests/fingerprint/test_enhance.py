"""Contextual enhancement (dakoku_core.fingerprint.enhance) on ridge patterns whose orientation and period are known."""
from __future__ import annotations

import numpy as np
import pytest

from dakoku_core.fingerprint.enhance import BLOCK, enhance, quick_clarity, ridge_field


def ridges(shape, angle_deg: float, period: float) -> np.ndarray:
    """A clean pattern in [-1, 1], -1 on a ridge, the ridges running at ``angle_deg`` counter-clockwise from the
    x axis as seen on screen (y down)."""
    theta = np.radians(angle_deg)
    ys, xs = np.mgrid[0:shape[0], 0:shape[1]].astype(np.float64)
    return -np.cos(2 * np.pi / period * (xs * np.sin(theta) + ys * np.cos(theta)))


def capture(clean: np.ndarray, noise: float, seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    grey = 150 + 60 * clean + rng.normal(0, noise, clean.shape)
    return np.clip(np.rint(grey), 0, 255).astype(np.uint8)


def separation(image: np.ndarray, clean: np.ndarray) -> float:
    """Ridge/valley contrast: (mean on valleys - mean on ridges) / the pooled spread within each."""
    img = image.astype(np.float64)
    ridge, valley = img[clean < -0.7], img[clean > 0.7]
    return (valley.mean() - ridge.mean()) / max(np.sqrt(0.5 * (ridge.var() + valley.var())), 1.0)


def inner(field: np.ndarray, margin: int = 3) -> np.ndarray:
    return field[margin:-margin, margin:-margin]


@pytest.mark.parametrize("angle, period", [(30.0, 9.0), (100.0, 12.0), (160.0, 6.5)])
def test_orientation_and_frequency_are_estimated_through_noise(angle, period):
    clean = ridges((256, 256), angle, period)
    field = ridge_field(capture(clean, noise=45.0))
    error = np.degrees(np.abs(np.angle(np.exp(2j * (inner(field.orientation) - np.radians(angle)))) / 2))
    assert np.median(error) < 3.0 and error.max() < 10.0
    assert np.median(np.abs(inner(field.frequency) * period - 1)) < 0.08
    assert inner(field.foreground).all()


def test_enhancement_raises_ridge_valley_contrast_and_keeps_ridges_dark():
    clean = ridges((256, 224), 55.0, 11.0)
    noisy = capture(clean, noise=55.0)
    out = enhance(noisy)
    core = (slice(24, -24), slice(24, -24))
    before, after = separation(noisy[core], clean[core]), separation(out[core], clean[core])
    assert before > 0.5                     # the input does show the pattern ...
    assert after > 2 * before               # ... and the output far more clearly, with ridges still dark


def test_broken_ridges_are_joined():
    clean = ridges((224, 224), 120.0, 10.0)
    rng = np.random.default_rng(3)
    gaps = np.kron(rng.random((28, 28)) < 0.3, np.ones((8, 8))).astype(bool)    # dry skin: ink missing
    broken = np.where(gaps, 1.0, clean)
    out = enhance(capture(broken, noise=20.0))
    on_gaps = gaps & (clean < -0.7)
    on_gaps[:24], on_gaps[-24:], on_gaps[:, :24], on_gaps[:, -24:] = False, False, False, False
    valleys = clean > 0.7
    assert out[on_gaps].mean() < out[valleys].mean() - 60     # the ridge runs on through the gap


def test_blank_region_is_background_and_white():
    clean = ridges((256, 256), 75.0, 9.5)
    image = capture(clean, noise=20.0)
    image[:, 128:] = capture(np.zeros((256, 128)), noise=20.0)     # nothing touches the right half
    field = ridge_field(image)
    cols = field.foreground.shape[1]
    assert not field.foreground[:, cols // 2 + 2:].any()
    assert field.foreground[2:-2, 2:cols // 2 - 2].all()
    out = enhance(image)
    assert (out[:, 128 + 2 * BLOCK:] == 255).all()
    assert out[:, :128 - 2 * BLOCK].std() > 50


def test_a_clear_capture_passes_the_gate_unchanged_and_a_noisy_one_does_not():
    clean = ridges((192, 192), 40.0, 9.0)
    clear, noisy = capture(clean, noise=5.0), capture(clean, noise=70.0)
    assert ridge_field(clear).clarity > 0.8 > 0.5 > ridge_field(noisy).clarity
    for image in (clear, noisy):                       # the quick estimate (a quarter of the windows) agrees
        assert abs(quick_clarity(image) - ridge_field(image).clarity) < 0.1
    assert enhance(clear, gate=0.5) is clear
    assert separation(enhance(noisy, gate=0.5), clean) > 2 * separation(noisy, clean)


@pytest.mark.parametrize("shape", [(201, 177), (384, 320), (176, 176)])
def test_output_shape_and_dtype(shape):
    out = enhance(capture(ridges(shape, 10.0, 9.0), noise=30.0))
    assert out.shape == shape and out.dtype == np.uint8


def test_the_kiosk_extractor_enhances_dry_wet_captures_only_and_they_match_better():
    """MindtctExtractor() (what the kiosk's sensors use, since the seventh look) leaves a clean capture to mindtct
    as it is, and on dry, wet, faint and noisy prints its genuine scores rise (fresh seeds: FNIR at N = 1,000
    49.2 -> 4.2 %). ``enhance=False`` is the raw extraction of before."""
    from dakoku_core.fingerprint.extractors import MindtctExtractor
    from dakoku_core.fingerprint.matcher import Matcher
    from dakoku_core.fingerprint.synth.kinds import KINDS
    from dakoku_core.fingerprint.synth.master import make_master
    kiosk, raw, matcher = MindtctExtractor(), MindtctExtractor(enhance=False), Matcher()
    base, wet = KINDS["base"], KINDS["dry_wet_coarse"]
    clean = base.impression(900_001, 0, make_master(900_001, base.period_range))
    assert np.array_equal(kiosk.extract(clean).minutiae, raw.extract(clean).minutiae)
    gains = []
    for seed in (900_011, 900_012, 900_013):
        master = make_master(seed, wet.period_range)
        a, b = wet.impression(seed, 0, master), wet.impression(seed, 1, master)
        enhanced, plain = (matcher.compare(e.extract(a), e.extract(b)) for e in (kiosk, raw))
        gains.append(enhanced - plain)
    assert min(gains) > 0 and np.mean(gains) > 30          # seeds 900011-13: about +70, +150, +90
    assert not np.array_equal(kiosk.extract(a).minutiae, raw.extract(a).minutiae)   # the default did enhance


def test_a_small_patch_on_a_blank_sensor_is_left_as_it_is():
    """A 72 px patch of noisy ridges on a flat white sensor: the flat blocks are background even where their
    windows reach the patch, and with a gate the patch is too small to enhance (its square edge would become
    minutiae, and a patch too small to enrol would pass)."""
    from dakoku_core.fingerprint.enhance import MIN_AREA
    image = np.full((256, 256), 255, np.uint8)
    image[96:168, 96:168] = capture(ridges((72, 72), 30.0, 9.0), noise=60.0)
    field = ridge_field(image)
    rows, cols = np.nonzero(field.foreground)
    assert len(rows) and rows.min() >= 96 // BLOCK and rows.max() < 168 // BLOCK + 1
    assert cols.min() >= 96 // BLOCK and cols.max() < 168 // BLOCK + 1
    assert field.foreground.sum() < MIN_AREA
    assert enhance(image, gate=0.5) is image
    assert (enhance(image)[:, :96 - BLOCK] == 255).all()       # ungated: enhanced, nothing outside the patch

