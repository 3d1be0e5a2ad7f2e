"""Orientation fields for synthetic masters: SFinGe's class-dependent zero-pole model.

Sherlock and Monro's zero-pole model puts the ridge orientation at z as
``theta(z) = 1/2 * (sum arg(z - core_i) - sum arg(z - delta_j))``; SFinGe (Cappelli, Maio, Maltoni) draws the
singular points per fingerprint class and adds a smooth correction so that fields look less synthetic
(Vizcaya and Gerhardt). Angles are in image coordinates (x right, y down), ridge direction modulo pi.
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

import numpy as np

from dakoku_core.fingerprint.synth.imaging import smooth_field


class FingerClass(str, Enum):
    ARCH = "arch"
    TENTED_ARCH = "tented_arch"
    LEFT_LOOP = "left_loop"
    RIGHT_LOOP = "right_loop"
    WHORL = "whorl"


# Approximate natural frequencies of the classes (Wilson et al.), as SFinGe uses them.
CLASS_WEIGHTS = {
    FingerClass.ARCH: 0.037, FingerClass.TENTED_ARCH: 0.029, FingerClass.LEFT_LOOP: 0.338,
    FingerClass.RIGHT_LOOP: 0.317, FingerClass.WHORL: 0.279,
}


@dataclass(frozen=True)
class SingularPoints:
    cores: tuple[tuple[float, float], ...]
    deltas: tuple[tuple[float, float], ...]


def draw_class(rng: np.random.Generator) -> FingerClass:
    classes = list(CLASS_WEIGHTS)
    weights = np.array([CLASS_WEIGHTS[c] for c in classes])
    return classes[int(rng.choice(len(classes), p=weights / weights.sum()))]


def draw_singular_points(cls: FingerClass, centre: tuple[float, float],
                         rng: np.random.Generator) -> SingularPoints:
    """Random singular points for a class around the pad centre (500 dpi scale)."""
    cx, cy = centre
    cx += rng.uniform(-20, 20)
    cy += rng.uniform(-40, 10)
    if cls is FingerClass.ARCH:
        return SingularPoints((), ())
    if cls is FingerClass.TENTED_ARCH:
        return SingularPoints(((cx, cy),), ((cx + rng.uniform(-8, 8), cy + rng.uniform(55, 85)),))
    if cls in (FingerClass.LEFT_LOOP, FingerClass.RIGHT_LOOP):
        side = 1.0 if cls is FingerClass.LEFT_LOOP else -1.0
        delta = (cx + side * rng.uniform(80, 130), cy + rng.uniform(70, 120))
        return SingularPoints(((cx, cy),), (delta,))
    gap = rng.uniform(15, 40)
    tilt = rng.uniform(-15, 15)
    cores = ((cx - tilt / 2, cy - gap / 2), (cx + tilt / 2, cy + gap / 2))
    deltas = ((cx - rng.uniform(90, 130), cy + rng.uniform(80, 120)),
              (cx + rng.uniform(90, 130), cy + rng.uniform(80, 120)))
    return SingularPoints(cores, deltas)


def orientation_field(shape: tuple[int, int], cls: FingerClass, centre: tuple[float, float],
                      rng: np.random.Generator) -> np.ndarray:
    """The ridge orientation (radians, modulo pi) at every pixel of a master of ``shape``."""
    h, w = shape
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float64)
    if cls is FingerClass.ARCH:
        theta = _arch_field(xs, ys, centre, rng)
    else:
        points = draw_singular_points(cls, centre, rng)
        z = xs + 1j * ys
        theta = np.zeros(shape)
        for core in points.cores:
            theta += 0.5 * np.angle(z - complex(*core))
        for delta in points.deltas:
            theta -= 0.5 * np.angle(z - complex(*delta))
    theta += smooth_field(rng, shape, 5, 0.12)
    return np.mod(theta, np.pi).astype(np.float32)


def _arch_field(xs: np.ndarray, ys: np.ndarray, centre: tuple[float, float],
                rng: np.random.Generator) -> np.ndarray:
    cx, cy = centre[0] + rng.uniform(-20, 20), centre[1] + rng.uniform(-30, 30)
    height = rng.uniform(1.2, 2.2)
    bell = np.exp(-((ys - cy) / 110.0) ** 2)
    slope = -height * (xs - cx) / 90.0 * np.exp(-((xs - cx) / 120.0) ** 2) * bell
    return np.arctan(slope)
