"""Impressions of a master: what a 500 dpi optical sensor would see of one finger placement (SFinGe).

Each impression draws a placement (rotation, translation, so the pad may only partly overlap the sensor window),
a smooth elastic distortion that grows away from the contact centre (Cappelli's skin model), a pressure / skin
dryness field that thickens or thins ridges, then renders 8-bit grey with blur and noise.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dakoku_core.fingerprint.synth.imaging import box_blur, sample_bilinear, smooth_field
from dakoku_core.fingerprint.synth.master import Master

SENSOR_SHAPE = (384, 320)          # rows, columns


@dataclass(frozen=True)
class ImpressionParams:
    """Variation between impressions; the defaults are a moderately hard FVC-like sensor."""

    max_rotation_deg: float = 35.0
    max_translation: float = 90.0
    distortion: float = 24.0       # peak elastic displacement in pixels, at the pad border
    pressure: float = 0.8          # amplitude of the ridge-thickness (pressure / dryness) field
    noise: float = 28.0            # grey-level noise standard deviation
    dryness: float = 0.6           # how much of the pad, at most, has broken (dry-skin) ridges
    blur: int = 1                  # box blur radius
    contrast_floor: float = 0.1    # the faintest (dry) patches keep this much of the ridge contrast

    def key(self) -> str:
        return "r{:g}t{:g}d{:g}p{:g}n{:g}b{}c{:g}y{:g}".format(
            self.max_rotation_deg, self.max_translation, self.distortion, self.pressure, self.noise, self.blur,
            self.contrast_floor, self.dryness)


def make_impression(master: Master, seed: int, index: int,
                    params: ImpressionParams = ImpressionParams()) -> np.ndarray:
    """Impression ``index`` of the master of ``seed``: an 8-bit grey image of ``SENSOR_SHAPE``."""
    rng = np.random.default_rng([seed, index, 0x1A9])
    xs, ys = _source_coordinates(master, rng, params)
    ridges = sample_bilinear(master.ridges, xs, ys, fill=0.0)
    pad = sample_bilinear(master.mask, xs, ys, fill=0.0)
    pressure = smooth_field(rng, SENSOR_SHAPE, 4, params.pressure) + rng.uniform(-0.15, 0.15)
    contrast = np.clip(0.7 + smooth_field(rng, SENSOR_SHAPE, 6, 0.6), params.contrast_floor, 1.0)
    ink = 1.0 / (1.0 + np.exp(-4.0 * (ridges + pressure)))          # 1 on a ridge
    ink *= 1.0 - _dry_breaks(rng, params.dryness)
    ink = box_blur(ink, params.blur) * pad * contrast
    background = rng.uniform(200, 240)
    grey = background - ink * rng.uniform(150, 190)
    grey += rng.normal(0.0, params.noise, size=SENSOR_SHAPE)
    return np.clip(np.rint(grey), 0, 255).astype(np.uint8)


def _source_coordinates(master: Master, rng: np.random.Generator,
                        params: ImpressionParams) -> tuple[np.ndarray, np.ndarray]:
    """For every sensor pixel, where it lands on the master (inverse mapping)."""
    h, w = SENSOR_SHAPE
    mh, mw = master.ridges.shape
    angle = np.radians(rng.uniform(-params.max_rotation_deg, params.max_rotation_deg))
    tx, ty = rng.uniform(-params.max_translation, params.max_translation, size=2)
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    u, v = xs - w / 2 - tx, ys - h / 2 - ty
    cos, sin = np.cos(angle), np.sin(angle)
    mx = cos * u + sin * v + mw / 2
    my = -sin * u + cos * v + mh / 2
    # Elastic distortion: none at the contact centre, growing towards the border of the contact region.
    cx, cy = rng.uniform(-30, 30) + w / 2, rng.uniform(-30, 30) + h / 2
    radius = np.sqrt((xs - cx) ** 2 + (ys - cy) ** 2) / (0.5 * max(h, w))
    weight = np.clip(radius - 0.15, 0.0, None) ** 1.5
    mx += weight * smooth_field(rng, SENSOR_SHAPE, 4, params.distortion)
    my += weight * smooth_field(rng, SENSOR_SHAPE, 4, params.distortion)
    return mx, my


def _dry_breaks(rng: np.random.Generator, dryness: float) -> np.ndarray:
    """Where the skin is dry, ridges break into islands: a mask of gaps (1 = no ink) in the dry regions."""
    dry_region = smooth_field(rng, SENSOR_SHAPE, 4, 1.0) > 1.0 - 2.0 * rng.uniform(0.0, dryness)
    speckle = box_blur(rng.normal(size=SENSOR_SHAPE).astype(np.float32), 2) > 0.25
    return (dry_region & speckle).astype(np.float32)
