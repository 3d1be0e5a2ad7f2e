"""Fingerprint templates: minutiae only (never images), in a small versioned binary format.

A minutia is (x, y, angle, quality, kind): pixel coordinates (x right, y down), the ridge direction in radians
counter-clockwise from the x axis as seen on screen (the ISO/IEC 19794-2 convention), quality 0..100 and kind
(ending, bifurcation or other). Own format, little-endian::

    b"DKFT" | version u8 (=1) | width u16 | height u16 | dpi u16 | count u16 |
    count x (x u16, y u16, angle u16 in 2*pi/65536 units, quality u8, kind u8)
"""
from __future__ import annotations

import struct
from dataclasses import dataclass
from enum import IntEnum

import numpy as np

MAGIC = b"DKFT"
FORMAT_VERSION = 1
_HEADER = struct.Struct("<4sBHHHH")
_MINUTIA = np.dtype([("x", "<u2"), ("y", "<u2"), ("angle", "<u2"), ("quality", "u1"), ("kind", "u1")])
MAX_MINUTIAE = 255            # what ISO/IEC 19794-2 can hold in one finger view


class MinutiaKind(IntEnum):
    OTHER = 0
    ENDING = 1
    BIFURCATION = 2


class TemplateFormatError(ValueError):
    """The bytes are not a template this version can read."""


@dataclass(frozen=True, eq=False)
class FingerprintTemplate:
    """Minutiae of one finger impression: ``minutiae`` is an (n, 5) float32 array x, y, angle, quality, kind."""

    minutiae: np.ndarray
    width: int
    height: int
    dpi: int = 500

    def __post_init__(self) -> None:
        arr = np.asarray(self.minutiae, dtype=np.float32).reshape(-1, 5)
        arr = arr.copy()
        arr[:, 2] = np.mod(arr[:, 2], 2 * np.pi)
        object.__setattr__(self, "minutiae", arr)

    @classmethod
    def from_columns(cls, x, y, angle, quality, kind=None, *, width: int, height: int,
                     dpi: int = 500) -> "FingerprintTemplate":
        n = len(x)
        kinds = np.zeros(n) if kind is None else np.asarray(kind)
        return cls(np.column_stack([x, y, angle, quality, kinds]).astype(np.float32), width, height, dpi)

    def __len__(self) -> int:
        return int(self.minutiae.shape[0])

    @property
    def xy(self) -> np.ndarray:
        return self.minutiae[:, :2]

    @property
    def angles(self) -> np.ndarray:
        return self.minutiae[:, 2]

    @property
    def qualities(self) -> np.ndarray:
        return self.minutiae[:, 3]

    @property
    def kinds(self) -> np.ndarray:
        return self.minutiae[:, 4].astype(np.int64)

    def best(self, limit: int) -> "FingerprintTemplate":
        """The ``limit`` best-quality minutiae (all of them if there are fewer)."""
        if len(self) <= limit:
            return self
        order = np.argsort(-self.qualities, kind="stable")[:limit]
        return FingerprintTemplate(self.minutiae[np.sort(order)], self.width, self.height, self.dpi)

    def to_bytes(self) -> bytes:
        return encode(self)

    @classmethod
    def from_bytes(cls, data: bytes) -> "FingerprintTemplate":
        return decode(data)

    def same_as(self, other: "FingerprintTemplate", tolerance: float = 1e-3) -> bool:
        return (self.width, self.height, self.dpi) == (other.width, other.height, other.dpi) and \
            self.minutiae.shape == other.minutiae.shape and \
            bool(np.allclose(self.minutiae, other.minutiae, atol=tolerance))


def encode(template: FingerprintTemplate) -> bytes:
    """Serialise to the own versioned format (at most ``MAX_MINUTIAE``, the best by quality)."""
    t = template.best(MAX_MINUTIAE)
    rows = np.zeros(len(t), dtype=_MINUTIA)
    rows["x"] = np.clip(np.rint(t.xy[:, 0]), 0, 65535)
    rows["y"] = np.clip(np.rint(t.xy[:, 1]), 0, 65535)
    rows["angle"] = np.rint(t.angles / (2 * np.pi) * 65536).astype(np.int64) % 65536
    rows["quality"] = np.clip(np.rint(t.qualities), 0, 100)
    rows["kind"] = t.kinds
    header = _HEADER.pack(MAGIC, FORMAT_VERSION, t.width, t.height, t.dpi, len(t))
    return header + rows.tobytes()


def decode(data: bytes) -> FingerprintTemplate:
    if len(data) < _HEADER.size:
        raise TemplateFormatError("too short for a template header")
    magic, version, width, height, dpi, count = _HEADER.unpack_from(data)
    if magic != MAGIC:
        raise TemplateFormatError("not a Dakoku template")
    if version != FORMAT_VERSION:
        raise TemplateFormatError(f"template version {version} is not supported")
    body = data[_HEADER.size:]
    if len(body) != count * _MINUTIA.itemsize:
        raise TemplateFormatError("template length does not match its minutia count")
    rows = np.frombuffer(body, dtype=_MINUTIA)
    return FingerprintTemplate.from_columns(
        rows["x"].astype(np.float32), rows["y"].astype(np.float32),
        rows["angle"].astype(np.float64) * (2 * np.pi / 65536), rows["quality"].astype(np.float32),
        rows["kind"].astype(np.float32), width=width, height=height, dpi=dpi)
