"""Replacing a file so that a crash, a full disk or a pulled USB stick leaves either the old file or the new one,
never half of one: the bytes go to a temporary name beside it, are fsync'd, renamed over the target, and the
folder is fsync'd so the rename itself survives a power cut. On any failure the temporary file is removed and the
error propagates (each caller turns it into its own catalogue error)."""
from __future__ import annotations

import os
from pathlib import Path


def replace_durably(target: Path, data: bytes, *, mode: int = 0o644, temp: Path | None = None) -> None:
    """Write ``data`` to ``target`` (created with ``mode``) through ``temp`` (default ``.<name>.tmp`` beside it)."""
    target = Path(target)
    temp = Path(temp) if temp is not None else target.with_name(f".{target.name}.tmp")
    try:
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
        with os.fdopen(fd, "wb") as handle:
            os.fchmod(handle.fileno(), mode)   # the umask may have narrowed or the old file widened it
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, target)
    except BaseException:
        try:
            temp.unlink()
        except OSError:
            pass   # never created, or the medium is gone or read-only: nothing of it was left
        raise
    fsync_folder(target.parent)


def fsync_folder(folder: Path) -> None:
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
