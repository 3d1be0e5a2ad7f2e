"""A :class:`~dakoku_core.fingerprint.mcc.CylinderCode` as bytes, so an encoded template can be stored (sealed) and
loaded without running the ~17 ms MCC encoding again. Own format, little-endian::

    b"DKCC" | version u8 | cylinders u16 | body
    body (version 1): xy float32 (n, 2) | angles float32 (n,) | packed_bits uint8 (n, CELLS / 8)
                      | packed_valid uint8 (n, NS * NS / 8)
    body (version 2): the version-1 body, zlib-compressed (level 1; the bits are about 7 % ones: 14 KB -> 4.5 KB)

The arrays are stored exactly (no rounding), so a decoded code scores like the one that was encoded. Version 2 is
written; both are read. A code decoded from version 2 keeps its bytes (``CylinderCode.encoded``), so the gallery
holds them as they are instead of compressing the code again (the larger part of building a gallery from the
store). Decompression is bounded by the length the header announces (a probe comes from the network).
"""
from __future__ import annotations

import struct
import zlib

import numpy as np

from dakoku_core.fingerprint.mcc import CELLS, NS, CylinderCode

MAGIC = b"DKCC"
FORMAT_VERSION = 2
PLAIN_VERSION = 1
_ZLIB_LEVEL = 1          # levels 6 and 9 save 12-15 % more and compress 3x slower
_HEADER = struct.Struct("<4sBH")
_BITS_BYTES = CELLS // 8
_VALID_BYTES = NS * NS // 8
_PER_CYLINDER = 2 * 4 + 4 + _BITS_BYTES + _VALID_BYTES


class CodeFormatError(ValueError):
    """The bytes are not a cylinder code this version can read."""


def encode_code(code: CylinderCode, *, compressed: bool = True) -> bytes:
    """Version 2 (compressed; the bytes the code was decoded from, when it was), or version 1 if not ``compressed``."""
    if compressed and code.encoded is not None:
        return code.encoded
    n = len(code)
    body = b"".join([np.ascontiguousarray(code.xy, dtype="<f4").reshape(n, 2).tobytes(),
                     np.ascontiguousarray(code.angles, dtype="<f4").reshape(n).tobytes(),
                     np.ascontiguousarray(code.packed_bits, dtype=np.uint8).reshape(n, _BITS_BYTES).tobytes(),
                     np.ascontiguousarray(code.packed_valid, dtype=np.uint8).reshape(n, _VALID_BYTES).tobytes()])
    if not compressed:
        return _HEADER.pack(MAGIC, PLAIN_VERSION, n) + body
    return _HEADER.pack(MAGIC, FORMAT_VERSION, n) + zlib.compress(body, _ZLIB_LEVEL)


def decode_code(data: bytes) -> CylinderCode:
    if len(data) < _HEADER.size:
        raise CodeFormatError("too short for a cylinder code header")
    magic, version, n = _HEADER.unpack_from(data)
    if magic != MAGIC:
        raise CodeFormatError("not a Dakoku cylinder code")
    if version == PLAIN_VERSION:
        body, encoded = memoryview(data)[_HEADER.size:], None
    elif version == FORMAT_VERSION:
        body, encoded = _inflate(memoryview(data)[_HEADER.size:], n * _PER_CYLINDER), bytes(data)
    else:
        raise CodeFormatError(f"cylinder code version {version} is not supported")
    if len(body) != n * _PER_CYLINDER:
        raise CodeFormatError("cylinder code length does not match its cylinder count")
    offset = 0

    def take(dtype: str, shape: tuple[int, ...]) -> np.ndarray:
        nonlocal offset
        arr = np.ndarray(shape, dtype, buffer=body, offset=offset)
        offset += arr.nbytes
        # version 2's body is our own fresh buffer: read-only views of it; version 1's belongs to the caller
        return arr if encoded is not None and arr.dtype.isnative else arr.astype(dtype.lstrip("<"), copy=True)

    xy = take("<f4", (n, 2))
    angles = take("<f4", (n,))
    bits = take("u1", (n, _BITS_BYTES))
    valid = take("u1", (n, _VALID_BYTES))
    return CylinderCode(xy, angles, bits, valid, encoded=encoded)


def _inflate(compressed: memoryview, expected: int) -> bytes:
    """The body, never more than ``expected`` + 1 bytes of it (a short or long one is refused by the caller)."""
    inflater = zlib.decompressobj()
    try:
        body = inflater.decompress(compressed, expected + 1)
    except zlib.error as exc:
        raise CodeFormatError("cylinder code body does not decompress") from exc
    if not inflater.eof or inflater.unused_data or inflater.unconsumed_tail:
        raise CodeFormatError("cylinder code body is truncated or followed by other bytes")
    return body
