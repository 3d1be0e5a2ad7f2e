"""The enrolled templates of a recorder, compact in memory, with the two-stage prefilter of
:mod:`dakoku_core.fingerprint.prefilter` stacked once in shared arrays.

An :class:`EnrolledTemplate` keeps its cylinder code in the compressed form of :mod:`code_codec` (the bits
are about 7 % ones: 14 KB -> about 4.5 KB) and decompresses it only when it is compared in full (the prefilter's
shortlist, a verify, a duplicate check). A code opened from the store is held in the very bytes it was stored
as, so building a gallery from the store compresses nothing. The prefilter rows are computed when the entry is
made (the code is at hand then) and handed to the first gallery that stacks the entry; a later gallery of the
same entries recomputes them from the code.
"""
from __future__ import annotations

import hashlib

from typing import Collection, Iterable, Sequence

import numpy as np

from dakoku_core.fingerprint import prefilter as pf
from dakoku_core.fingerprint.code_codec import decode_code, encode_code
from dakoku_core.fingerprint.mcc import CylinderCode

PREFILTER_CYLINDERS = pf.CYLINDERS
PREFILTER_PROBE_CYLINDERS = pf.PROBE_CYLINDERS
PREFILTER_TOP = pf.TOP


class EnrolledTemplate:
    """One enrolled (sub-)template: whose, which finger, its cylinder code (kept compressed)."""

    __slots__ = ("employee_key", "finger", "_packed", "_rows")

    def __init__(self, employee_key: str, finger: int, code: CylinderCode):
        self.employee_key = employee_key
        self.finger = finger
        self._packed = encode_code(code)
        self._rows: np.ndarray | None = code.packed_bits[pf.nearest_rows(code, PREFILTER_CYLINDERS)]

    @property
    def code(self) -> CylinderCode:
        return decode_code(self._packed)

    @property
    def nbytes(self) -> int:
        """Bytes held for the code (the compressed form)."""
        return len(self._packed)

    def code_digest(self) -> bytes:
        """SHA-256 of the compressed code (equal codes, equal digests: the self-check's gallery digest)."""
        return hashlib.sha256(self._packed).digest()

    def take_prefilter_bits(self) -> np.ndarray:
        """The packed bits of the prefilter cylinders, handed over once (recomputed from the code after)."""
        rows, self._rows = self._rows, None
        if rows is None:
            code = self.code
            rows = code.packed_bits[pf.nearest_rows(code, PREFILTER_CYLINDERS)]
        return rows

    def __repr__(self) -> str:
        return f"EnrolledTemplate({self.employee_key!r}, {self.finger!r}, <{len(self._packed)} bytes>)"


def _stack(entries: Sequence[EnrolledTemplate]) -> tuple[np.ndarray, np.ndarray]:
    """The zero-padded coarse (n * CYLINDERS, 48) and fine (n * CYLINDERS, 96) prefilter arrays, in one pass."""
    chosen = [e.take_prefilter_bits() for e in entries]
    coarse = np.zeros((len(entries) * PREFILTER_CYLINDERS, pf.COARSE_DIMS), np.uint8)
    fine = np.zeros((len(entries) * PREFILTER_CYLINDERS, pf.FINE_BYTES), np.uint8)
    if not any(len(rows) for rows in chosen):
        return coarse, fine
    targets = np.concatenate([k * PREFILTER_CYLINDERS + np.arange(len(rows)) for k, rows in enumerate(chosen)])
    coarse[targets], fine[targets] = pf.stack_rows(np.concatenate(chosen))
    return coarse, fine


class Gallery:
    """An immutable set of enrolled templates with the prefilter arrays built once."""

    def __init__(self, entries: Iterable[EnrolledTemplate], *,
                 _rows: tuple[np.ndarray, np.ndarray] | None = None):
        self.entries: tuple[EnrolledTemplate, ...] = tuple(entries)
        self._coarse, self._stack = _stack(self.entries) if _rows is None else _rows
        self._patterns: int | None = None

    def __len__(self) -> int:
        return len(self.entries)

    @property
    def nbytes(self) -> int:
        """Memory held by the gallery's own arrays and compressed codes."""
        return self._coarse.nbytes + self._stack.nbytes + sum(e.nbytes for e in self.entries)

    def employees(self) -> frozenset[str]:
        return frozenset(e.employee_key for e in self.entries)

    def pattern_count(self) -> int:
        """Enrolled fingers (an employee's finger with several sub-templates counts once)."""
        if self._patterns is None:
            self._patterns = len({(e.employee_key, e.finger) for e in self.entries})
        return self._patterns

    def _rows_of(self, chosen: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
        def pick(a: np.ndarray) -> np.ndarray:
            return a.reshape(len(self.entries), PREFILTER_CYLINDERS, a.shape[1])[list(chosen)].reshape(-1, a.shape[1])
        return pick(self._coarse), pick(self._stack)

    def restricted_to(self, employee_keys: Iterable[str]) -> "Gallery":
        keys = frozenset(employee_keys)
        if keys >= self.employees():
            return self
        chosen = [k for k, e in enumerate(self.entries) if e.employee_key in keys]
        return Gallery((self.entries[k] for k in chosen), _rows=self._rows_of(chosen))

    def changed(self, drop: Collection[tuple[str, int]], add: Iterable[EnrolledTemplate] = ()) -> "Gallery":
        """Without the entries of the ``drop`` fingers ((employee key, finger) pairs), plus ``add``. The prefilter
        rows of the entries kept are reused and only the new ones are stacked, so a データ更新 or an enrolment
        never restacks the whole gallery."""
        drop = set(drop)
        added = Gallery(add)
        if not drop and not len(added):
            return self
        kept = [k for k, e in enumerate(self.entries) if (e.employee_key, e.finger) not in drop]
        coarse, fine = self._rows_of(kept)
        rows = (np.concatenate([coarse, added._coarse]), np.concatenate([fine, added._stack]))
        return Gallery([self.entries[k] for k in kept] + list(added.entries), _rows=rows)

    def of_employee(self, employee_key: str) -> list[EnrolledTemplate]:
        return [e for e in self.entries if e.employee_key == employee_key]

    def prefilter(self, probe: CylinderCode, top_k: int) -> Sequence[int]:
        """Indices of the ``top_k`` most promising entries, best first."""
        return pf.shortlist(probe, self._coarse, self._stack, top_k)
