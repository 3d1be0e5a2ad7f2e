"""The compact two-stage prefilter of 1:N identification: which enrolled templates deserve the full MCC.

Each enrolled template keeps ``CYLINDERS`` of its cylinders (those nearest its minutiae centroid, the part most
likely to overlap a probe) in two pooled forms, stored as small integers in shared arrays:

- **fine**: the 1,536 cell bits pooled 2 x 2 spatially and 2 angularly -> 192 counts of 0..8, two to a byte
  (96 bytes a cylinder). Its cosine (of square-rooted counts) is the prefilter score the kiosk used before.
- **coarse**: pooled again 2 x 2 spatially -> 48 counts, square-rooted, L2-normalised and quantised to uint8
  (48 bytes a cylinder).

A probe's ``PROBE_CYLINDERS`` against the whole gallery is one SGEMM per chunk on the coarse form (converted to
float32 a chunk at a time, so the float copy never exists whole); per template each probe cylinder keeps its best
cosine, and the template scores the sum of the best ``TOP``. The best ``COARSE_SHORTLIST`` templates are scored
again on the fine form, the same way, and the best of those get the full MCC. Per template this is 4.6 KB instead
of the 24 KB of a float32 stack of 192-dimensional rows.
"""
from __future__ import annotations

import numpy as np

from dakoku_core.fingerprint.mcc import CELLS, ND, NS, CylinderCode

CYLINDERS = 32
PROBE_CYLINDERS = 48
TOP = 8
COARSE_SHORTLIST = 600          # templates re-scored on the fine form (at N = 10,000: 6 %)
FINE_DIMS = (NS // 2) ** 2 * (ND // 2)          # 192
FINE_BYTES = FINE_DIMS // 2                      # two 4-bit counts a byte
COARSE_DIMS = (NS // 4) ** 2 * (ND // 2)        # 48
_POOL_CHUNK = 8192              # cylinders unpacked at a time while stacking
_SCORE_CHUNK = 1024             # templates per SGEMM while scoring (6 MB of float32 at a time)
_SQRT = np.sqrt(np.arange(16, dtype=np.float32))


def nearest_rows(code: CylinderCode, limit: int) -> np.ndarray:
    """Which cylinders of a code go into the prefilter: at most ``limit``, those nearest its centroid."""
    if len(code) == 0:
        return np.zeros(0, np.intp)
    offset = code.xy - code.xy.sum(axis=0) / len(code)          # the centroid, as xy.mean(axis=0) computes it
    return np.argsort(np.einsum("ij,ij->i", offset, offset), kind="stable")[:limit]


def _pair_lut() -> np.ndarray:
    """(4096,) little-endian uint32: for 12 bits = two neighbouring spatial cells x ND angular bits (packbits
    order, the first bit most significant), the set bits of each of the 3 angular pairs of both cells, one count
    per byte (bytes 0..2), so that adding words adds the three counts at once (they never exceed 32)."""
    v = np.arange(4096)[:, None]
    pos = np.array([[11 - 2 * a, 10 - 2 * a, 5 - 2 * a, 4 - 2 * a] for a in range(ND // 2)])   # (3, 4)
    counts = ((v[:, :, None] >> pos.T[None]) & 1).sum(axis=1)                                 # (4096, 3)
    return (counts << np.array([0, 8, 16])).sum(axis=1).astype("<u4")


_LUT = _pair_lut()


def _pooled_words(packed_bits: np.ndarray) -> np.ndarray:
    """(n, CELLS / 8) packed cylinder bits -> (n, 8, 8) words holding the 3 counts of each 2 x 2 x 2 cell block.

    Straight from the packed bytes: a spatial row is 12 bytes, every 3 bytes hold four cells, i.e. two 12-bit
    halves of two cells each, which one table lookup turns into their 3 angular-pair counts."""
    b = packed_bits.reshape(-1, NS, NS // 4, 3).astype("<u4")
    v = (b[..., 0] << 16) | (b[..., 1] << 8) | b[..., 2]
    halves = np.empty(v.shape + (2,), "<u4")
    halves[..., 0] = v >> 12
    halves[..., 1] = v & 4095
    words = _LUT[halves].reshape(len(b), NS // 2, 2, NS // 2)
    return words[:, :, 0] + words[:, :, 1]


def _counts_of(words: np.ndarray) -> np.ndarray:
    """(n, a, b) words -> (n, a, b, 3) uint8 counts (a view)."""
    return words.view(np.uint8).reshape(words.shape + (4,))[..., :3]


def _coarse_words(words: np.ndarray) -> np.ndarray:
    """(n, 8, 8) fine words -> (n, 4, 4) words of the 4 x 4 x 2 cell blocks."""
    s = words.reshape(-1, NS // 4, 2, NS // 4, 2)
    s = s[:, :, 0] + s[:, :, 1]
    return s[:, :, :, 0] + s[:, :, :, 1]


def fine_counts(packed_bits: np.ndarray) -> np.ndarray:
    """(n, CELLS / 8) packed cylinder bits -> (n, 8, 8, 3) uint8 counts of set bits per 2 x 2 x 2 cell block."""
    return np.ascontiguousarray(_counts_of(_pooled_words(packed_bits)))


def coarse_counts(fine: np.ndarray) -> np.ndarray:
    """(n, 8, 8, 3) fine counts -> (n, 48) counts per 4 x 4 x 2 cell block."""
    s = fine.reshape(-1, NS // 4, 2, NS // 4, 2, ND // 2)
    s = s[:, :, 0] + s[:, :, 1]
    return (s[:, :, :, 0] + s[:, :, :, 1]).reshape(len(fine), COARSE_DIMS)


def unit_rows(counts: np.ndarray) -> np.ndarray:
    """Square-rooted, L2-normalised float32 rows (all-zero rows stay zero)."""
    root = np.sqrt(counts.astype(np.float32))
    return root / np.maximum(np.linalg.norm(root, axis=1, keepdims=True), 1e-6)


def pack_fine(fine: np.ndarray) -> np.ndarray:
    flat = fine.reshape(len(fine), FINE_DIMS)
    return (flat[:, 0::2] << 4) | flat[:, 1::2]


def unpack_fine(packed: np.ndarray) -> np.ndarray:
    return np.stack([packed >> 4, packed & 15], axis=-1).reshape(len(packed), FINE_DIMS)


def stack_rows(packed_bits: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(coarse uint8 (n, 48), fine nibbles uint8 (n, 96)) of n cylinders, a bounded chunk at a time."""
    n = len(packed_bits)
    coarse, fine = np.zeros((n, COARSE_DIMS), np.uint8), np.zeros((n, FINE_BYTES), np.uint8)
    for start in range(0, n, _POOL_CHUNK):
        part = slice(start, start + _POOL_CHUNK)
        words = _pooled_words(packed_bits[part])
        fine[part] = pack_fine(_counts_of(words))
        coarse[part] = np.rint(255.0 * unit_rows(_counts_of(_coarse_words(words)).reshape(len(words), COARSE_DIMS)))
    return coarse, fine


def probe_rows(probe: CylinderCode) -> tuple[np.ndarray, np.ndarray]:
    """The probe's (coarse, fine) float32 unit rows of its ``PROBE_CYLINDERS`` nearest its centroid."""
    counts = fine_counts(probe.packed_bits[nearest_rows(probe, PROBE_CYLINDERS)])
    return unit_rows(coarse_counts(counts)), unit_rows(counts.reshape(len(counts), FINE_DIMS))


def _template_scores(best: np.ndarray) -> np.ndarray:
    """(probe cylinders, templates) best cosines -> per template the sum of the best ``TOP``."""
    top = min(TOP, len(best))
    return np.partition(best, -top, axis=0)[-top:].sum(axis=0)


def coarse_scores(probe: np.ndarray, coarse: np.ndarray) -> np.ndarray:
    """Every template's coarse score: ``coarse`` is (templates * CYLINDERS, 48) uint8."""
    n = len(coarse) // CYLINDERS
    best = np.empty((len(probe), n), np.float32)
    for start in range(0, n, _SCORE_CHUNK):
        block = coarse[start * CYLINDERS:(start + _SCORE_CHUNK) * CYLINDERS].astype(np.float32)
        cos = probe @ block.T
        best[:, start:start + _SCORE_CHUNK] = cos.reshape(len(probe), -1, CYLINDERS).max(axis=2)
    return _template_scores(best)


def fine_scores(probe: np.ndarray, fine: np.ndarray, chosen: np.ndarray) -> np.ndarray:
    """The fine scores of the ``chosen`` templates: ``fine`` is (templates * CYLINDERS, 96) nibbles."""
    rows = fine.reshape(-1, CYLINDERS, FINE_BYTES)[chosen].reshape(-1, FINE_BYTES)
    root = _SQRT[unpack_fine(rows)]
    norms = np.sqrt(np.einsum("ij,ij->i", root, root))
    cos = (probe @ root.T) / np.maximum(norms, 1e-6)
    return _template_scores(cos.reshape(len(probe), len(chosen), CYLINDERS).max(axis=2))


def shortlist(probe: CylinderCode, coarse: np.ndarray, fine: np.ndarray, top_k: int) -> list[int]:
    """Indices of the ``top_k`` most promising templates, best first (coarse stage only when it narrows)."""
    n = len(fine) // CYLINDERS
    if n == 0 or len(probe) == 0:
        return []
    if n <= top_k:
        return list(range(n))
    coarse_probe, fine_probe = probe_rows(probe)
    chosen = np.arange(n)
    if n > max(COARSE_SHORTLIST, top_k):
        scores = coarse_scores(coarse_probe, coarse)
        chosen = np.sort(np.argpartition(scores, -COARSE_SHORTLIST)[-COARSE_SHORTLIST:])
    scores = fine_scores(fine_probe, fine, chosen)
    best = np.argpartition(scores, -top_k)[-top_k:]
    best = best[np.argsort(-scores[best], kind="stable")]
    return chosen[best].tolist()
