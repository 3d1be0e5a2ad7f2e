"""Give the heap's free memory back to the operating system.

The kiosk runs for months. Its threads (punch, outbox worker, データ更新, devices) each allocate in their own glibc
malloc arena, and what they free stays mapped as free space inside the arenas. The soak (issue 10) measured the
kiosk's RSS outside SQLite growing by about 50 KB/min at 3 punches/s with the default arenas, about 11 KB/min with
two; Python's own objects did not grow (tracemalloc). glibc's ``malloc_trim(0)`` returns the free pages of every
arena; it costs a few milliseconds, so the kiosk calls it now and then (after a データ更新 and on an idle timer).
Where the C library is not glibc (Windows, musl) there is nothing to call and it does nothing.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import gc
import logging

log = logging.getLogger(__name__)


def _malloc_trim():
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        trim = libc.malloc_trim
    except (OSError, AttributeError, TypeError):
        return None
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    return trim


_TRIM = _malloc_trim()


def release_free_memory() -> bool:
    """Return the heap's free pages to the OS. True when something was released."""
    if _TRIM is None:
        return False
    try:
        return bool(_TRIM(0))
    except OSError as exc:  # never let housekeeping fail a caller
        log.warning("malloc_trim failed: %s", exc)
        return False


def settle_long_lived() -> None:
    """Keep what lives as long as the kiosk out of Python's full garbage collections.

    A full (generation 2) collection walks every object that Python tracks: with 10,000 employees' master data and
    the screens, 70-160 ms on the Kivy thread on a quiet 2-core machine, 400 ms under load (docs/performance.md), at
    moments no one chooses, e.g. between a tap and its confirmation. ``gc.freeze`` moves them out of the
    collector's view. Called once the master data is in memory and after each データ更新: what an earlier call froze
    is unfrozen and collected first, so that cycles dropped since (an old snapshot, screens rebuilt after a
    language switch) are freed then, not kept for ever. The collection here is one pause at a moment of the kiosk's
    choosing."""
    gc.unfreeze()
    gc.collect()
    gc.freeze()
