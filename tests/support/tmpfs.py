"""Real "USB sticks" for tests: tmpfs mounts (a small one is really full, a read-only one really refuses writes,
also for root, where chmod would not). Mounting needs CAP_SYS_ADMIN; without it :class:`MountRefused` says why,
and the caller skips."""
from __future__ import annotations

import subprocess
from pathlib import Path


class MountRefused(RuntimeError):
    pass


class TmpfsMounts:
    def __init__(self) -> None:
        self.mounted: list[Path] = []

    def mount(self, path: Path, size: str = "4m", read_only: bool = False) -> Path:
        path.mkdir(parents=True, exist_ok=True)
        options = f"size={size},mode=0777" + (",ro" if read_only else "")
        out = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(path)], capture_output=True,
                             text=True)
        if out.returncode != 0:
            raise MountRefused(f"cannot mount a tmpfs here (needs CAP_SYS_ADMIN): {out.stderr.strip()}")
        self.mounted.append(path)
        return path

    def unmount_all(self) -> None:
        for path in reversed(self.mounted):
            subprocess.run(["umount", "-l", str(path)], capture_output=True)
        self.mounted.clear()
