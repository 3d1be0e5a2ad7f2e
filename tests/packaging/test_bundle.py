"""Issue 13: the PyInstaller one-folder build (packaging/pyinstaller/kiosk.spec) is built from this checkout and
started offscreen; it must find kv/ and fonts/ inside the bundle and render the standby screen.

Slow (a few minutes: the build), so it is marked ``slow``; it is NOT left out of the default run: CI runs the
README's test command (scripts/test.sh), which runs every test, this one included."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from importlib.util import find_spec
from pathlib import Path

import pytest

from tests.support.screenshot_start import distinct_colours, start_and_screenshot

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1800)]
ROOT = Path(__file__).resolve().parents[2]
SPEC = ROOT / "packaging" / "pyinstaller" / "kiosk.spec"
SHOTS = ROOT / "artifacts" / "screens"


def folder_size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file() and not p.is_symlink())


@pytest.fixture(scope="module")
def bundle(tmp_path_factory) -> Path:
    assert find_spec("PyInstaller"), "PyInstaller is in the test extras: re-run scripts/setup.sh"
    work = tmp_path_factory.mktemp("pyinstaller")
    env = dict(os.environ, KIVY_LOG_MODE="PYTHON", KIVY_NO_ARGS="1", KIVY_HOME=str(work / "kivy-home"))
    started = time.monotonic()
    build = subprocess.run([sys.executable, "-m", "PyInstaller", "--noconfirm", "--log-level", "WARN",
                            "--distpath", str(work / "dist"), "--workpath", str(work / "build"), str(SPEC)],
                           capture_output=True, text=True, env=env, cwd=work, timeout=1500)
    assert build.returncode == 0, build.stderr[-4000:]
    folder = work / "dist" / "dakoku-kiosk"
    print(f"bundle_build_s {time.monotonic() - started:.0f}  bundle_size_mb {folder_size(folder) / 1e6:.0f}")
    return folder


def test_the_bundle_holds_the_kiosk_files(bundle):
    internal = bundle / "_internal"
    assert (bundle / "dakoku-kiosk").is_file()
    for kv in (ROOT / "kv").glob("*.kv"):
        assert (internal / "kv" / kv.name).is_file(), kv.name
    assert sorted(p.name for p in (internal / "fonts").glob("*.ttf")) == sorted(
        p.name for p in (ROOT / "fonts").glob("*.ttf"))
    assert (internal / "dakoku_core" / "data" / "catalogue.json").is_file()
    assert list((internal / "kivymd").rglob("*.glsl")) or list((internal / "kivymd").rglob("*.kv"))
    assert not (internal / "dakoku_server").exists()   # the server is not part of the kiosk bundle


def test_the_frozen_kiosk_renders_the_standby_screen_offscreen(bundle, tmp_path):
    env = dict(os.environ, KIVY_HOME=str(tmp_path / "kivy-home"), PYTHONPATH="")
    env.pop("DISPLAY", None)   # SDL's offscreen driver: no X server needed
    run = start_and_screenshot(bundle / "dakoku-kiosk", env, tmp_path)
    assert run.rendered, run.output[-4000:]
    print(f"bundle_start_to_ready_s {run.ready_s:.1f}")
    assert "Failed to execute script" not in run.output, run.output[-4000:]
    assert distinct_colours(run.pngs[-1]) > 50    # text, buttons and the clock: not a blank or one-colour frame
    SHOTS.mkdir(parents=True, exist_ok=True)
    (SHOTS / "bundle_standby.png").write_bytes(run.pngs[-1].read_bytes())
