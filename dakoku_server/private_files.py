"""Secrets at rest on the server's disk (issue 10, item 3): files 0600 and folders 0700, whatever the umask.

Used for the SQLite database (and its -wal/-shm), the local CA's key, the template keys and every file the
``demo`` and ``init`` commands write. A folder is made 0700 when this code creates it; an existing folder the
operator chose (say /var/lib) is left as it is, but everything this code writes into it is 0600.
"""
from __future__ import annotations

import os
from pathlib import Path

FILE_MODE = 0o600
DIR_MODE = 0o700


def private_dir(path: str | os.PathLike) -> Path:
    """``path`` as a folder: created 0700 (with any missing parents) when missing; an existing one is left
    as it is (see :func:`close_up_dir` for folders the product owns)."""
    folder = Path(path)
    missing = []
    probe = folder
    while not probe.exists():
        missing.append(probe)
        probe = probe.parent
    for created in reversed(missing):
        created.mkdir(mode=DIR_MODE, exist_ok=True)
        os.chmod(created, DIR_MODE)            # mkdir's mode is filtered by the umask; chmod is not
    return folder


def close_up_dir(path: str | os.PathLike) -> None:
    """Make a folder this product owns (demo, tls, template keys) 0700."""
    os.chmod(path, DIR_MODE)


def private_file(path: str | os.PathLike) -> None:
    """Make an existing file 0600."""
    os.chmod(path, FILE_MODE)


def write_private(path: str | os.PathLike, data: str | bytes) -> None:
    """Write ``data`` to ``path`` with mode 0600 from the first byte (an existing file is closed up first)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    os.fchmod(fd, FILE_MODE)
    mode = "wb" if isinstance(data, bytes) else "w"
    with os.fdopen(fd, mode, **({} if isinstance(data, bytes) else {"encoding": "utf-8"})) as handle:
        handle.write(data)


def prepare_sqlite(path: str) -> None:
    """Before SQLite opens ``path``: its folder exists (0700 if created here), the file exists with mode 0600
    (SQLite then creates -wal and -shm with the same mode), and existing -wal/-shm files are 0600."""
    file = Path(os.path.abspath(path))
    private_dir(file.parent)
    if file.exists():
        # never open and close a descriptor of a database file that may be open: closing any descriptor of a
        # file drops every POSIX lock this process holds on it, so another connection of this process (the
        # admin CLI beside a pooled one, a test binding to the server's file) would lose the locks SQLite relies
        # on, and a server closing its last connection would checkpoint and cut the WAL under it: "database disk
        # image is malformed" (seen in a full test run)
        os.chmod(file, FILE_MODE)
    else:
        fd = os.open(file, os.O_RDWR | os.O_CREAT | os.O_EXCL, FILE_MODE)
        os.fchmod(fd, FILE_MODE)
        os.close(fd)
    for suffix in ("-wal", "-shm", "-journal"):
        extra = Path(f"{file}{suffix}")
        if extra.exists():
            os.chmod(extra, FILE_MODE)
