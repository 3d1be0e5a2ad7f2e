"""A non-editable ``pip install '.[kiosk]'`` finds its kv/ and fonts/ (issue 13): setup.cfg's data_files put them
under ``<prefix>/share/dakoku``, where dakoku_core/resources.py looks when the packages are not in a checkout.

The install is made into a fresh venv from a copy of the checkout (nothing is built in this working tree), with
pip's cache as scripts/setup.sh leaves it; then the installed ``kiosk demo --offline --screenshot`` renders the
standby screen offscreen from the venv, not from this checkout."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.support.install import ROOT, install_checkout, run as _run
from tests.support.screenshot_start import distinct_colours, start_and_screenshot

pytestmark = pytest.mark.timeout(900)


@pytest.fixture(scope="module")
def kiosk_venv(tmp_path_factory) -> Path:
    venv, seconds = install_checkout(tmp_path_factory.mktemp("kiosk-install"), "kiosk", timeout=600)
    print(f"kiosk_install_s {seconds:.1f}")
    return venv


def test_the_installed_kiosk_looks_in_its_share_folder(kiosk_venv):
    share = kiosk_venv / "share" / "dakoku"
    assert sorted(p.name for p in (share / "kv").glob("*.kv")) == sorted(p.name for p in (ROOT / "kv").glob("*.kv"))
    assert sorted(p.name for p in (share / "fonts").glob("*.ttf")) == sorted(
        p.name for p in (ROOT / "fonts").glob("*.ttf"))
    probe = ("from dakoku_core.resources import resource_root; import kiosk; "
             "print(resource_root()); print(kiosk.__file__)")
    out = _run(kiosk_venv / "bin" / "python", "-c", probe, cwd=kiosk_venv, env=_env(kiosk_venv))
    root, package = out.stdout.split()
    assert out.returncode == 0 and Path(root) == share, out.stdout + out.stderr
    assert str(kiosk_venv) in package and str(ROOT) not in package


def test_the_installed_kiosk_renders_the_standby_screen(kiosk_venv, tmp_path):
    run = start_and_screenshot(kiosk_venv / "bin" / "kiosk", _env(kiosk_venv, KIVY_HOME=str(tmp_path / "kivy-home")),
                               tmp_path)
    assert run.rendered, run.output[-4000:]
    print(f"installed_kiosk_start_to_ready_s {run.ready_s:.1f}")
    assert "Traceback" not in run.output, run.output[-4000:]
    assert distinct_colours(run.pngs[-1]) > 50    # text, buttons and the clock: the kv and the fonts were found


def _env(venv: Path, **extra: str) -> dict:
    """The venv's own: no PYTHONPATH pointing back at this checkout, no display (SDL's offscreen driver)."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "DISPLAY", "DAKOKU_TEMPLATE_KEYS")}
    return dict(env, PATH=f"{venv / 'bin'}:{env.get('PATH', '')}", **extra)
