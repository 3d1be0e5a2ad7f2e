"""This checkout installed into a fresh venv as a site would (``pip install '.[extra]'``), built from a copy of
the files git knows (tracked, or new and not ignored), so that nothing is built in this working tree. pip must
reach the pinned packages (a wheel cache or an index), as scripts/setup.sh does."""
from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def copy_checkout(target: Path) -> None:
    """The files git knows (tracked, or new and not ignored): no .venv, no build leftovers."""
    listed = subprocess.run(["git", "-C", str(ROOT), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                            check=True, capture_output=True).stdout.decode().split("\0")
    for rel in filter(None, listed):
        source = ROOT / rel
        if source.is_file():
            (target / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / rel)


def run(*args: str | Path, timeout: float = 120, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=timeout, **kwargs)


def work_tree_status() -> str:
    return subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "--untracked-files=all", "--ignored"],
                          capture_output=True, text=True).stdout


def install_checkout(work: Path, extra: str, timeout: float) -> tuple[Path, float]:
    """``work``/venv with ``.[extra]`` installed from ``work``/src; (the venv, the seconds pip took).
    AssertionError (with pip's words) when a step fails or the build touched this working tree."""
    source = work / "src"
    before = work_tree_status()
    copy_checkout(source)
    venv = work / "venv"
    made = run(sys.executable, "-m", "venv", venv)
    assert made.returncode == 0, made.stdout + made.stderr
    started = time.monotonic()
    out = run(venv / "bin" / "python", "-m", "pip", "install", "-q", "--disable-pip-version-check",
              f"{source}[{extra}]", timeout=timeout)
    assert out.returncode == 0, out.stdout + out.stderr
    seconds = time.monotonic() - started
    after = work_tree_status()
    changed = set(after.splitlines()) ^ set(before.splitlines())
    assert not changed, f"the work tree changed during the build: {sorted(changed)}"
    return venv, seconds
