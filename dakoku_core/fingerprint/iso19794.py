"""ISO/IEC 19794-2:2005 finger minutiae record (FMR) import and export, one finger view.

Layout (big-endian): record header (24 bytes) ``b"FMR\\0"``, version ``b" 20\\0"``, record length u32,
capture equipment (4-bit certification + 12-bit device id) u16, image width u16, height u16, x and y resolution
u16 (pixels per centimetre), finger view count u8, reserved u8; then per view: finger position u8, view number
(4 bits) + impression type (4 bits) u8, finger quality u8, minutia count u8; then per minutia 6 bytes: type
(2 bits) + x (14 bits), reserved (2 bits) + y (14 bits), angle u8 in 360/256 degree units, quality u8; then the
extended data block length u16 (0 here). Minutia types: 01 ridge ending, 10 bifurcation, 00 other.
"""
from __future__ import annotations

import struct

import numpy as np

from dakoku_core.fingerprint.template import MAX_MINUTIAE, FingerprintTemplate, MinutiaKind, TemplateFormatError

_HEADER = struct.Struct(">4s4sIHHHHHBB")
_VIEW = struct.Struct(">BBBB")
CM_PER_INCH = 2.54
_TYPE_TO_BITS = {MinutiaKind.OTHER: 0, MinutiaKind.ENDING: 1, MinutiaKind.BIFURCATION: 2}
_BITS_TO_TYPE = {0: MinutiaKind.OTHER, 1: MinutiaKind.ENDING, 2: MinutiaKind.BIFURCATION, 3: MinutiaKind.OTHER}


def to_iso(template: FingerprintTemplate, *, finger_position: int = 0, impression_type: int = 0,
           finger_quality: int | None = None) -> bytes:
    """Export a template as an ISO/IEC 19794-2:2005 record with one finger view."""
    t = template.best(MAX_MINUTIAE)
    resolution = int(round(t.dpi / CM_PER_INCH))
    quality = int(round(float(np.mean(t.qualities)))) if finger_quality is None and len(t) else (finger_quality or 0)
    body = bytearray()
    body += _VIEW.pack(finger_position, impression_type & 0x0F, quality, len(t))
    for x, y, angle, q, kind in t.minutiae:
        type_bits = _TYPE_TO_BITS.get(MinutiaKind(int(kind)), 0)
        body += struct.pack(">HHBB", (type_bits << 14) | (int(round(x)) & 0x3FFF), int(round(y)) & 0x3FFF,
                            int(round(angle / (2 * np.pi) * 256)) % 256, int(np.clip(round(q), 0, 100)))
    body += struct.pack(">H", 0)
    length = _HEADER.size + len(body)
    header = _HEADER.pack(b"FMR\0", b" 20\0", length, 0, t.width, t.height, resolution, resolution, 1, 0)
    return header + bytes(body)


def from_iso(data: bytes) -> FingerprintTemplate:
    """Import the first finger view of an ISO/IEC 19794-2:2005 record."""
    if len(data) < _HEADER.size + _VIEW.size:
        raise TemplateFormatError("too short for an ISO/IEC 19794-2 record")
    magic, version, length, _equipment, width, height, xres, _yres, views, _ = _HEADER.unpack_from(data)
    if magic != b"FMR\0" or version != b" 20\0":
        raise TemplateFormatError("not an ISO/IEC 19794-2:2005 finger minutiae record")
    if length != len(data) or views < 1:
        raise TemplateFormatError("record length or view count is wrong")
    _pos, _view, _quality, count = _VIEW.unpack_from(data, _HEADER.size)
    offset = _HEADER.size + _VIEW.size
    if len(data) < offset + 6 * count:
        raise TemplateFormatError("record is shorter than its minutiae")
    rows = np.zeros((count, 5), dtype=np.float32)
    for i in range(count):
        xw, yw, angle, q = struct.unpack_from(">HHBB", data, offset + 6 * i)
        rows[i] = (xw & 0x3FFF, yw & 0x3FFF, angle * (2 * np.pi / 256), q, _BITS_TO_TYPE[xw >> 14])
    dpi = int(round(xres * CM_PER_INCH)) if xres else 500
    return FingerprintTemplate(rows, width, height, dpi)
