"""Seeded synthetic data sets with separate seed ranges, cached on disk by seed range and parameters.

TUNING seeds are the only ones used to choose parameters and to calibrate scores; REPORTING seeds are only used
for the published figures; TEST seeds make the tiny sets of the unit tests. Finger ``i`` of a range has master
seed ``range.start + i``; impression ``j`` of it has its own seed derived from (master seed, j).
"""
from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from dakoku_core.fingerprint.synth.impression import ImpressionParams, make_impression
from dakoku_core.fingerprint.synth.master import make_master

GENERATOR_VERSION = 1


@dataclass(frozen=True)
class SeedRange:
    name: str
    start: int
    stop: int

    def seeds(self, fingers: int) -> range:
        if fingers > self.stop - self.start:
            raise ValueError(f"the {self.name} range holds {self.stop - self.start} fingers")
        return range(self.start, self.start + fingers)


TUNING = SeedRange("tuning", 100_000, 200_000)
REPORTING = SeedRange("reporting", 500_000, 600_000)
TEST = SeedRange("test", 900_000, 910_000)


def impressions_of(seed: int, count: int, params: ImpressionParams = ImpressionParams()) -> np.ndarray:
    """``count`` impressions of one synthetic finger: (count, rows, cols) uint8."""
    master = make_master(seed)
    return np.stack([make_impression(master, seed, j, params) for j in range(count)])


def cache_dir() -> Path:
    root = os.environ.get("DAKOKU_FP_CACHE") or os.path.join(tempfile.gettempdir(), "dakoku-fp-cache")
    path = Path(root)
    path.mkdir(parents=True, exist_ok=True)
    return path


def synthetic_set(seed_range: SeedRange, fingers: int, impressions: int,
                  params: ImpressionParams = ImpressionParams(), *, use_cache: bool = True) -> np.ndarray:
    """Images (fingers, impressions, rows, cols) uint8 of a seed range, from the cache when possible."""
    key = f"v{GENERATOR_VERSION}-{seed_range.name}-{seed_range.start}-{fingers}x{impressions}-{params.key()}"
    path = cache_dir() / f"{hashlib.sha256(key.encode()).hexdigest()[:16]}-{seed_range.name}.npz"
    if use_cache and path.is_file():
        with np.load(path) as data:
            return data["images"]
    images = np.stack([impressions_of(seed, impressions, params) for seed in seed_range.seeds(fingers)])
    if use_cache:
        tmp = path.with_suffix(".tmp.npz")
        np.savez_compressed(tmp, images=images)
        tmp.replace(path)
    return images
