"""Small NumPy image helpers for the generator (no SciPy): sampling, smoothing, low-frequency fields."""
from __future__ import annotations

import numpy as np


def sample_bilinear(image: np.ndarray, xs: np.ndarray, ys: np.ndarray, fill: float = 0.0) -> np.ndarray:
    """Sample ``image`` at float coordinates (x = column, y = row); outside points get ``fill``."""
    h, w = image.shape
    inside = (xs >= 0) & (xs <= w - 1) & (ys >= 0) & (ys <= h - 1)
    x = np.clip(xs, 0, w - 1.001)
    y = np.clip(ys, 0, h - 1.001)
    x0 = np.floor(x).astype(np.intp)
    y0 = np.floor(y).astype(np.intp)
    fx = (x - x0).astype(np.float32)
    fy = (y - y0).astype(np.float32)
    top = image[y0, x0] * (1 - fx) + image[y0, x0 + 1] * fx
    bottom = image[y0 + 1, x0] * (1 - fx) + image[y0 + 1, x0 + 1] * fx
    out = top * (1 - fy) + bottom * fy
    return np.where(inside, out, fill).astype(np.float32)


def smooth_field(rng: np.random.Generator, shape: tuple[int, int], cells: int, amplitude: float) -> np.ndarray:
    """A smooth random field: a ``cells`` x ``cells`` grid of uniform values in ±amplitude, upsampled."""
    h, w = shape
    grid = rng.uniform(-amplitude, amplitude, size=(cells, cells)).astype(np.float32)
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    return sample_bilinear(grid, xs * (cells - 1) / max(w - 1, 1), ys * (cells - 1) / max(h - 1, 1))


def box_blur(image: np.ndarray, radius: int) -> np.ndarray:
    """Separable box blur of the given radius (edges replicated)."""
    if radius <= 0:
        return image
    k = 2 * radius + 1
    out = image.astype(np.float32)
    for axis in (0, 1):
        padded = np.pad(out, [(radius, radius) if a == axis else (0, 0) for a in (0, 1)], mode="edge")
        csum = np.cumsum(padded, axis=axis, dtype=np.float64)
        csum = np.insert(csum, 0, 0.0, axis=axis)
        hi = np.take(csum, np.arange(k, csum.shape[axis]), axis=axis)
        lo = np.take(csum, np.arange(0, csum.shape[axis] - k), axis=axis)
        out = ((hi - lo) / k).astype(np.float32)
    return out


def ellipse_mask(shape: tuple[int, int], centre: tuple[float, float], axes: tuple[float, float],
                 softness: float = 6.0) -> np.ndarray:
    """A soft elliptic pad mask in [0, 1]; the upper half is rounder, like a fingertip."""
    h, w = shape
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    cx, cy = centre
    ax, ay = axes
    dy = (ys - cy) / np.where(ys < cy, ay * 0.95, ay * 1.1)
    r = np.sqrt(((xs - cx) / ax) ** 2 + dy ** 2)
    return np.clip((1.0 - r) * min(ax, ay) / softness, 0.0, 1.0).astype(np.float32)
