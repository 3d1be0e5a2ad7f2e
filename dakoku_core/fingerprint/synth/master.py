"""Master fingerprints: ridge patterns grown by iterative orientation-selective Gabor filtering (SFinGe).

Starting from a few random seeds, each iteration filters the image with the Gabor filter tuned to the local
orientation and ridge period, then saturates it; ridges spread from the seeds and minutiae appear where the
growing fronts meet out of phase. The filtering is done in the frequency domain with one filter per quantised
orientation, so an iteration costs one forward and ``ORIENTATION_BINS`` inverse FFTs.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dakoku_core.fingerprint.synth.imaging import ellipse_mask
from dakoku_core.fingerprint.synth.orientation import FingerClass, draw_class, orientation_field

MASTER_SHAPE = (480, 400)          # rows, columns at 500 dpi
ORIENTATION_BINS = 12
GROWTH_ITERATIONS = 18


@dataclass(frozen=True)
class Master:
    """A master fingerprint: the continuous ridge field in [-1, 1] (ridges positive) and its pad mask."""

    ridges: np.ndarray
    mask: np.ndarray
    finger_class: FingerClass
    period: float


def gabor_bank(shape: tuple[int, int], period: float, sigma: float) -> np.ndarray:
    """Frequency responses (for ``rfft2``) of even Gabor filters across each of the orientation bins."""
    h, w = shape
    fy = np.fft.fftfreq(h)[:, None]
    fx = np.fft.rfftfreq(w)[None, :]
    f0 = 1.0 / period
    spread = 1.0 / (2.0 * np.pi * sigma)
    bank = np.empty((ORIENTATION_BINS, h, fx.shape[1]), dtype=np.float32)
    for k in range(ORIENTATION_BINS):
        theta = np.pi * k / ORIENTATION_BINS
        nx, ny = -np.sin(theta), np.cos(theta)        # the wave runs across the ridges
        d_plus = (fx - f0 * nx) ** 2 + (fy - f0 * ny) ** 2
        d_minus = (fx + f0 * nx) ** 2 + (fy + f0 * ny) ** 2
        response = np.exp(-d_plus / (2 * spread ** 2)) + np.exp(-d_minus / (2 * spread ** 2))
        bank[k] = response / response.max()
    return bank


def grow_ridges(theta: np.ndarray, period: float, rng: np.random.Generator,
                iterations: int = GROWTH_ITERATIONS) -> np.ndarray:
    """Grow a ridge pattern following ``theta`` from random seeds; returns values in [-1, 1]."""
    shape = theta.shape
    bank = gabor_bank(shape, period, sigma=0.45 * period)
    bins = np.rint(theta / np.pi * ORIENTATION_BINS).astype(np.intp) % ORIENTATION_BINS
    image = np.zeros(shape, dtype=np.float32)
    n_seeds = max(4, int(shape[0] * shape[1] / 2500))
    ys = rng.integers(0, shape[0], n_seeds)
    xs = rng.integers(0, shape[1], n_seeds)
    image[ys, xs] = rng.choice([-1.0, 1.0], n_seeds) * 40.0
    rows = np.arange(shape[0])[:, None]
    cols = np.arange(shape[1])[None, :]
    for _ in range(iterations):
        spectrum = np.fft.rfft2(image)
        filtered = np.empty((ORIENTATION_BINS,) + shape, dtype=np.float32)
        for k in range(ORIENTATION_BINS):
            filtered[k] = np.fft.irfft2(spectrum * bank[k], s=shape)
        image = filtered[bins, rows, cols]
        scale = np.percentile(np.abs(image), 95) + 1e-9
        image = np.clip(image * (2.5 / scale), -1.0, 1.0).astype(np.float32)
    return image


def make_master(seed: int, period_range: tuple[float, float] = (8.5, 10.5)) -> Master:
    """The master fingerprint of ``seed`` (deterministic); its ridge period (px at 500 dpi) is drawn from
    ``period_range`` (other ranges make other kinds of data, :mod:`dakoku_core.fingerprint.synth.kinds`)."""
    rng = np.random.default_rng([seed, 0x5F1])
    h, w = MASTER_SHAPE
    centre = (w / 2 + rng.uniform(-10, 10), h / 2 + rng.uniform(-10, 10))
    cls = draw_class(rng)
    theta = orientation_field(MASTER_SHAPE, cls, centre, rng)
    period = float(rng.uniform(*period_range))
    ridges = grow_ridges(theta, period, rng)
    axes = (rng.uniform(150, 175), rng.uniform(205, 230))
    mask = ellipse_mask(MASTER_SHAPE, centre, axes)
    return Master(ridges=ridges, mask=mask, finger_class=cls, period=period)
