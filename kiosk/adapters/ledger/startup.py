"""The ledger at start-up: a damaged ledger is told apart from a first start, and never silently replaced.

A marker file beside the ledger (``ledger.sqlite3.created``) is written once the ledger was first created
and migrated. With the marker, a missing or empty (0-byte) ledger is damage, not a first start. Any ledger
file that exists and is not empty must open and pass ``PRAGMA quick_check`` (and be as long as its header
says). A damaged ledger and its ``-wal``/``-shm`` are renamed aside (``<name>.damaged-<UTC time>``, the
``-wal`` suffix kept so the pair opens together for a person to inspect or rescue) and a new ledger is
created; the start-up then shows 「打刻の保存に失敗しました。…」 (punch_record_failed, save) naming the kept file,
and the new ledger's audit log notes it. (``connection.json`` is no proof of an earlier ledger: a kiosk may be
provisioned before its first start.)
"""
from __future__ import annotations

import json
import logging
import os
import sqlite3
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from dakoku_core.durable_files import fsync_folder, replace_durably
from dakoku_core.errors import KioskError, Situation

log = logging.getLogger(__name__)
MARKER_SUFFIX = ".created"
SIDE_FILES = ("-wal", "-shm", "-journal")
BROKEN = {11, 26}   # SQLITE_CORRUPT, SQLITE_NOTADB


def marker_path(path: Path) -> Path:
    return path.with_name(path.name + MARKER_SUFFIX)


@dataclass(frozen=True)
class Damage:
    reason: str                 # missing | empty | malformed | truncated
    detail: str
    kept_as: Path | None        # where the damaged file went (None: there was no file)

    def error(self) -> KioskError:
        kept = f"; kept as {self.kept_as.name}" if self.kept_as else ""
        return KioskError("punch_record_failed", situation=Situation.STARTUP, variant="save",
                          detail=f"ledger {self.reason}: {self.detail}{kept}")


def examine(path: Path) -> tuple[str, str] | None:
    """(reason, detail) when the ledger at ``path`` is damaged; None when it is healthy or this is a first
    start. Reads only (SQLite may roll a WAL it finds into the file, as any open would)."""
    had_ledger = marker_path(path).exists()
    if not path.exists():
        return ("missing", f"{path.name} is gone but {marker_path(path).name} says it was created") \
            if had_ledger else None
    size = path.stat().st_size
    if size == 0:
        return ("empty", f"{path.name} is 0 bytes") if had_ledger else None
    try:   # read-only: the -wal is read, never folded into a damaged file nor deleted (it is evidence)
        connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
        try:
            verdict = [row[0] for row in connection.execute("PRAGMA quick_check").fetchall()[:5]]
            pages, page_size = (connection.execute(f"PRAGMA {p}").fetchone()[0] for p in ("page_count", "page_size"))
        finally:
            connection.close()
    except sqlite3.DatabaseError as exc:
        if (getattr(exc, "sqlite_errorcode", 0) or 0) & 0xFF in BROKEN:
            return "malformed", str(exc)
        return None   # busy, locked, no permission...: not damage; opening the ledger reports it
    if verdict != ["ok"]:
        return "malformed", " / ".join(verdict)[:300]
    if pages * page_size > path.stat().st_size and not Path(f"{path}-wal").exists():
        return "truncated", f"{path.stat().st_size} bytes, the header says {pages * page_size}"
    return None


def set_aside(path: Path, now: datetime | None = None) -> Path | None:
    """Rename the ledger and its side files to ``<name>.damaged-<UTC time>[-wal|-shm]``; returns the new
    name of the main file (None when it did not exist)."""
    stamp = (now or datetime.now(timezone.utc)).strftime("%Y%m%dT%H%M%S.%fZ")
    kept = path.with_name(f"{path.name}.damaged-{stamp}")
    moved = None
    for suffix in ("",) + SIDE_FILES:
        source = Path(f"{path}{suffix}")
        if source.exists():
            os.replace(source, Path(f"{kept}{suffix}"))
            moved = kept if suffix == "" else moved
    fsync_folder(path.parent)
    return moved


def check_and_set_aside(path: Path) -> Damage | None:
    """At start, before the ledger is opened: examine it and move a damaged one aside."""
    path = Path(path)
    try:
        found = examine(path)
        if found is None:
            return None
        reason, detail = found
        kept = set_aside(path)
    except OSError as exc:
        return Damage("unreadable", str(exc), None)
    log.error("ledger %s (%s)%s", reason, detail, f"; kept as {kept}" if kept else "")
    return Damage(reason, detail, kept)


def write_marker(path: Path) -> None:
    """Note (durably) that this ledger was created: from now on its absence is damage."""
    marker = marker_path(Path(path))
    if marker.exists():
        return
    note = {"ledger": path.name, "created_at": datetime.now(timezone.utc).isoformat()}
    replace_durably(marker, json.dumps(note).encode("utf-8"), temp=marker.with_name(marker.name + ".tmp"))

