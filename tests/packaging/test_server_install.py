"""The server installs without the kiosk (issue 13): ``pip install '.[server]'`` into a fresh venv, from a copy of
the checkout (pip builds in the tree it installs from: nothing is left in this working tree), brings no Kivy or
KivyMD, and its ``kiosk-server`` creates a database and the demo company and serves them over TLS: a public
remedy page (the installed data files), the OpenAPI file and a signed request from a recorder are answered.
The ``kiosk`` script in that venv says what is missing instead of a traceback.

It needs pip to reach the pinned packages (a wheel cache or an index), as scripts/setup.sh does."""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
import requests

from dakoku_core.protocol.certificate import parse_certificate
from dakoku_core.protocol.client import RecorderClient
from dakoku_core.protocol.connection import parse_connection_string
from tests.support.install import ROOT, install_checkout, run
from tests.support.server_process import free_port, stop, wait_ready

KIOSK_ONLY = ("kivy", "kivymd", "kivy_garden", "materialyoucolor", "asynckivy", "budoux", "segno", "tenacity")


@pytest.fixture(scope="module")
def server_venv(tmp_path_factory) -> Path:
    venv, seconds = install_checkout(tmp_path_factory.mktemp("server-install"), "server", timeout=540)
    print(f"server_install_s {seconds:.1f}")
    return venv


@pytest.mark.timeout(600)
def test_the_server_extra_installs_no_kivy(server_venv):
    python = server_venv / "bin" / "python"
    probe = ("import importlib.util as u, sys; "
             f"print(' '.join(m for m in {KIOSK_ONLY!r} if u.find_spec(m)))")
    out = run(python, "-c", probe)
    assert out.returncode == 0 and out.stdout.strip() == "", out.stdout + out.stderr
    listed = run(python, "-m", "pip", "list", "--format=freeze", "--disable-pip-version-check").stdout.lower()
    assert "flask==" in listed and "peewee==" in listed and "dakoku-kiosk==" in listed
    assert "kivy" not in listed, listed
    # the server's modules come from the venv, not from this checkout
    where = run(python, "-c", "import dakoku_server, dakoku_core; print(dakoku_server.__file__, dakoku_core.__file__)",
                cwd=server_venv)
    assert str(server_venv) in where.stdout and str(ROOT) not in where.stdout, where.stdout + where.stderr


@pytest.mark.timeout(600)
def test_kiosk_without_its_extra_says_what_is_missing(server_venv):
    out = run(server_venv / "bin" / "kiosk", "demo")
    assert out.returncode == 2
    assert "Traceback" not in out.stderr and "kivy" in out.stderr and "[kiosk]" in out.stderr, out.stderr


@pytest.mark.timeout(600)
def test_the_installed_kiosk_server_serves(server_venv, tmp_path):
    bin_dir = server_venv / "bin"
    db = f"sqlite:///{tmp_path / 'server.sqlite'}"
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "DAKOKU_TEMPLATE_KEYS")}
    assert run(bin_dir / "kiosk-server", "--help", env=env).returncode == 0
    port = free_port()
    url = f"https://127.0.0.1:{port}/"
    init = run(bin_dir / "kiosk-server", "--db", db, "init", "--url", url, env=env, cwd=tmp_path)
    assert init.returncode == 0 and "database ready" in init.stdout, init.stdout + init.stderr
    demo = run(bin_dir / "kiosk-server", "--db", db, "demo", "--dir", tmp_path / "demo", "--port", str(port),
               env=env, cwd=tmp_path)
    assert demo.returncode == 0, demo.stdout + demo.stderr
    log = open(tmp_path / "server.log", "wb")
    process = subprocess.Popen([str(bin_dir / "kiosk-server"), "--db", db, "serve", "--host", "127.0.0.1", "--port",
                                str(port), "--tls-dir", str(tmp_path / "demo" / "tls"), "--workers", "1"],
                               stdout=log, stderr=subprocess.STDOUT, env=env, cwd=tmp_path, start_new_session=True)
    try:
        ca = str(tmp_path / "demo" / "tls" / "ca.pem")
        wait_ready(process, url, ca, (tmp_path / "server.log").read_text)
        page = requests.get(url + "help/network", verify=ca, timeout=10)
        assert page.status_code == 200 and "<pre" in page.text      # docs/remedies, installed as data files
        assert requests.get(url + "openapi.yaml", verify=ca, timeout=10).status_code == 200
        text = (tmp_path / "demo" / "recorder.txt").read_text("utf-8")
        client = RecorderClient(parse_connection_string(text.split("\n")[1]), parse_certificate(text), ca_file=ca)
        master = client.master_data()
        assert master.status_code == 200, master.text
        assert any(e["code"] == "1001" for e in master.json()["employees"])
    finally:
        stop(process, timeout=20)
        log.close()

