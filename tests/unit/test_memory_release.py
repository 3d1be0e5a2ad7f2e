"""kiosk/adapters/memory.py: free heap pages go back to the operating system (issue 10's soak: the kiosk's RSS
outside SQLite grew about 50 KB/min at 3 punches/s with glibc's default arenas, about 11 KB/min when trimmed)."""
from __future__ import annotations

import ctypes.util
import threading
from pathlib import Path

import pytest

from kiosk.adapters import memory

glibc = pytest.mark.skipif(memory._TRIM is None, reason="not glibc: malloc_trim does not exist here")


def rss_kb() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


@glibc
def test_pages_freed_by_a_thread_leave_the_process_once_released():
    held: list[bytes] = []

    def allocate():                       # a thread of its own: its own malloc arena, like the outbox worker
        blocks = [bytes(2048) for _ in range(40_000)]     # ≈ 80 MiB in malloc'd blocks (> pymalloc's 512 B)
        held.append(blocks[-1])           # the last block pins the arena's top: freeing the rest cannot shrink it
        blocks.clear()

    before = rss_kb()
    worker = threading.Thread(target=allocate)
    worker.start()
    worker.join()
    freed_but_mapped = rss_kb()
    released = memory.release_free_memory()
    after = rss_kb()
    assert held, "the thread ran"
    assert freed_but_mapped - before > 20_000, "the freed blocks should still be resident before the release"
    assert released is True
    assert freed_but_mapped - after > 20_000, (before, freed_but_mapped, after)


def test_without_glibc_it_does_nothing_and_says_so(monkeypatch):
    monkeypatch.setattr(memory, "_TRIM", None)
    assert memory.release_free_memory() is False


def test_a_failing_trim_never_reaches_the_caller(monkeypatch):
    def broken(_pad):
        raise OSError("no")
    monkeypatch.setattr(memory, "_TRIM", broken)
    assert memory.release_free_memory() is False


def test_the_c_library_is_found_where_the_kiosk_runs():
    assert ctypes.util.find_library("c") is not None or memory._TRIM is None
