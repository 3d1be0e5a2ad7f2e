"""BIZ UD Gothic (vendored in fonts/, SIL OFL) for every text, so Japanese renders without system fonts.

The vendored files' underscore vanished at many sizes (16-20, 27-29, 37 px: a recorder code such as ``shop_01``
read ``shop 01``): its hinting program rounds the bar's top and bottom edges to the pixel grid each on its own, and
a bar thinner than a pixel (51 of 2048 units) collapses to nothing whenever both edges round to the same line. The
kiosk registers a copy (in the user's cache folder) in which such a one-bar glyph keeps a minimum distance of one
pixel between its edges (MDRP with the minimum-distance flag instead of a second MDAP): one byte per glyph, the
file otherwise the same. Modified versions are allowed by the OFL (the font has no Reserved Font Name)."""
from __future__ import annotations

import hashlib
import logging
import os
import re
import struct
import tempfile
from pathlib import Path

import platformdirs

from dakoku_core.resources import resource_root

FONTS_DIR = resource_root() / "fonts"   # the checkout, or the frozen bundle
MONO = "BIZUDGothic"          # fixed width: the clock's digits do not jitter
PROPORTIONAL = "BIZUDPGothic"
log = logging.getLogger(__name__)

# A glyph of one contour of 4 points (a bar: _ ‾ ¯ – — ―) whose 8 instructions are: PUSHB[1] top bottom; SVTCA[y];
# MDAP[round] bottom; MDAP[round] top; IUP[y]; IUP[x]. Group 1: xMin yMin xMax yMax; group 2: the second MDAP.
_BAR = re.compile(rb"\x00\x01(.{8})\x00\x03\x00\x08\xb1..\x00\x2f(\x2f)\x30\x31", re.DOTALL)
THIN = 128                    # font units (of 2048): a bar lower than this may round to no height
_COPY = "thinbars1"           # in the copy's name: a change to the patch makes new copies
_MDRP_MIN_DISTANCE = 0xCC     # MDRP[keep minimum distance, round, grey]: the top stays a pixel above the bottom


def _tables(data: bytes) -> dict[bytes, tuple[int, int]]:
    count = struct.unpack_from(">H", data, 4)[0]
    return {tag: (offset, length) for tag, _sum, offset, length
            in (struct.unpack_from(">4sIII", data, 12 + 16 * i) for i in range(count))}


def _glyph_starts(data: bytes, tables: dict[bytes, tuple[int, int]]) -> set[int]:
    long_offsets = struct.unpack_from(">h", data, tables[b"head"][0] + 50)[0] == 1
    offset, length = tables[b"loca"]
    if long_offsets:
        return set(struct.unpack_from(f">{length // 4}I", data, offset))
    return {2 * v for v in struct.unpack_from(f">{length // 2}H", data, offset)}


def thin_bars_kept(data: bytes) -> tuple[bytes, int]:
    """``data`` (a TrueType file) with every one-bar glyph's hinting fixed as described above, and how many."""
    tables = _tables(data)
    glyf = tables[b"glyf"][0]
    starts = _glyph_starts(data, tables)
    patched = bytearray(data)
    count = 0
    for match in _BAR.finditer(data, glyf, glyf + tables[b"glyf"][1]):
        _x0, y0, _x1, y1 = struct.unpack(">4h", match[1])
        if match.start() - glyf in starts and y1 - y0 < THIN:
            patched[match.start(2)] = _MDRP_MIN_DISTANCE
            count += 1
    return bytes(patched), count


def _cache_dir() -> Path:
    """The per-user cache (platformdirs: $XDG_CACHE_HOME/dakoku-kiosk on Linux, %LOCALAPPDATA% on Windows)."""
    return Path(platformdirs.user_cache_dir("dakoku-kiosk", appauthor=False)) / "fonts"


def usable_font(source: Path) -> Path:
    """The copy of ``source`` with its thin bars kept, made once per version of the file; ``source`` itself when
    no copy can be written (the underscore may then vanish, nothing else changes)."""
    data = source.read_bytes()
    name = f"{source.stem}-{hashlib.sha256(data).hexdigest()[:16]}-{_COPY}{source.suffix}"
    for folder in (_cache_dir(), Path(tempfile.gettempdir()) / "dakoku-kiosk-fonts"):
        target = folder / name
        if target.exists():
            return target
        try:
            folder.mkdir(parents=True, exist_ok=True)
            patched, count = thin_bars_kept(data)
            partial = folder / f".{name}.{os.getpid()}"
            partial.write_bytes(patched)
            os.replace(partial, target)
            log.info("font %s: %d thin bar glyphs keep a pixel (%s)", source.name, count, target)
            return target
        except OSError as error:
            log.warning("font copy not written in %s: %s", folder, error)
    return source


def register_fonts() -> None:
    from kivy.core.text import LabelBase

    files = {}
    for name in (MONO, PROPORTIONAL):
        for style in ("Regular", "Bold"):
            path = FONTS_DIR / f"{name}-{style}.ttf"
            if not path.exists():
                raise FileNotFoundError(f"vendored font missing: {path}")
            files[name, style] = str(usable_font(path))
        LabelBase.register(name=name, fn_regular=files[name, "Regular"], fn_bold=files[name, "Bold"])
    # KivyMD's type scale and plain Kivy labels both use "Roboto": point that name at BIZ UD PGothic.
    for alias in ("Roboto", "RobotoMedium", "RobotoLight", "RobotoThin", "RobotoBlack"):
        LabelBase.register(name=alias, fn_regular=files[PROPORTIONAL, "Regular"],
                           fn_bold=files[PROPORTIONAL, "Bold"])
