"""The real `kiosk` command in a fresh process (its own window, offscreen): what a kiosk shows at start
when something is wrong. Each run renders the screen to a PNG and exits by itself."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.ui, pytest.mark.timeout(120)]
SHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screens"


def run_kiosk(tmp_path: Path, *args: str) -> tuple[int, Path, str]:
    SHOTS.mkdir(parents=True, exist_ok=True)
    shot = tmp_path / "shot.png"
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    proc = subprocess.run([sys.executable, "-m", "kiosk", *args, "--screenshot", str(shot)],
                          capture_output=True, text=True, timeout=90, env=env)
    pngs = sorted(tmp_path.glob("shot*.png"))
    assert pngs, f"no screenshot; exit {proc.returncode}\n{proc.stderr[-3000:]}"
    return proc.returncode, pngs[-1], proc.stderr


def keep(png: Path, name: str) -> None:
    (SHOTS / f"{name}.png").write_bytes(png.read_bytes())


def test_run_without_master_data_shows_008_before_any_touch(tmp_path):
    code, png, err = run_kiosk(tmp_path, "run", "--data-dir", str(tmp_path / "data"))
    assert code == 0, err[-3000:]
    assert "Traceback" not in err
    assert "startup_data_missing" in err          # logged by the presenter
    keep(png, "start_008")


def test_unopenable_ledger_shows_the_catalogue_error_not_a_traceback(tmp_path):
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the data directory should be")
    code, png, err = run_kiosk(tmp_path, "run", "--data-dir", str(blocker / "data"))
    assert code == 1 and "Traceback" not in err
    assert "punch_record_failed" in err
    keep(png, "start_ledger_error")


def test_malformed_settings_show_010_on_screen(tmp_path):
    settings = tmp_path / "settings.json"
    settings.write_text(json.dumps({"reader": {"backend": "magic"}}))
    code, png, err = run_kiosk(tmp_path, "run", "--settings", str(settings), "--data-dir", str(tmp_path))
    assert code == 1 and "[010]" in err and "Traceback" not in err
    keep(png, "start_010")
