"""A :class:`~kiosk.fingerprint.mcc.CylinderCode` as bytes, so an encoded template can be stored (sealed) and
loaded without running the ~17 ms MCC encoding again. Own format, little-endian::

    b"DKCC" | version u8 (=1) | cylinders u16 |
    xy float32 (n, 2) | angles float32 (n,) | packed_bits uint8 (n, CELLS / 8) | packed_valid uint8 (n, NS * NS / 8)

The arrays are stored exactly (no rounding), so a decoded code scores like the one that was encoded.
"""
from __future__ import annotations

import struct

import numpy as np

from kiosk.fingerprint.mcc import CELLS, NS, CylinderCode

MAGIC = b"DKCC"
FORMAT_VERSION = 1
_HEADER = struct.Struct("<4sBH")
_BITS_BYTES = CELLS // 8
_VALID_BYTES = NS * NS // 8
_PER_CYLINDER = 2 * 4 + 4 + _BITS_BYTES + _VALID_BYTES


class CodeFormatError(ValueError):
    """The bytes are not a cylinder code this version can read."""


def encode_code(code: CylinderCode) -> bytes:
    n = len(code)
    parts = [_HEADER.pack(MAGIC, FORMAT_VERSION, n),
             np.ascontiguousarray(code.xy, dtype="<f4").reshape(n, 2).tobytes(),
             np.ascontiguousarray(code.angles, dtype="<f4").reshape(n).tobytes(),
             np.ascontiguousarray(code.packed_bits, dtype=np.uint8).reshape(n, _BITS_BYTES).tobytes(),
             np.ascontiguousarray(code.packed_valid, dtype=np.uint8).reshape(n, _VALID_BYTES).tobytes()]
    return b"".join(parts)


def decode_code(data: bytes) -> CylinderCode:
    if len(data) < _HEADER.size:
        raise CodeFormatError("too short for a cylinder code header")
    magic, version, n = _HEADER.unpack_from(data)
    if magic != MAGIC:
        raise CodeFormatError("not a Dakoku cylinder code")
    if version != FORMAT_VERSION:
        raise CodeFormatError(f"cylinder code version {version} is not supported")
    if len(data) != _HEADER.size + n * _PER_CYLINDER:
        raise CodeFormatError("cylinder code length does not match its cylinder count")
    offset = _HEADER.size

    def take(dtype: str, count: int, shape: tuple[int, ...]) -> np.ndarray:
        nonlocal offset
        arr = np.frombuffer(data, dtype=dtype, count=count, offset=offset).reshape(shape)
        offset += arr.nbytes
        return arr.astype(dtype.lstrip("<"), copy=True)

    xy = take("<f4", n * 2, (n, 2))
    angles = take("<f4", n, (n,))
    bits = take("u1", n * _BITS_BYTES, (n, _BITS_BYTES))
    valid = take("u1", n * _VALID_BYTES, (n, _VALID_BYTES))
    return CylinderCode(xy, angles, bits, valid)
