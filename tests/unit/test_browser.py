"""The Browser adapter against this machine's real webbrowser module, in clean subprocesses (the module
caches what it found, and the environment decides what it finds)."""
import subprocess
import sys

CODE = """
from kiosk.adapters.browser import SystemBrowser
from kiosk.errors import KioskError
try:
    SystemBrowser().open("https://127.0.0.1:9/timecard/x")
    print("opened")
except KioskError as err:
    print(err.key, err.message())
"""


def run(env: dict) -> str:
    base = {"PATH": "/usr/bin:/bin", "HOME": "/tmp", "PYTHONPATH": ":".join(sys.path)}
    out = subprocess.run([sys.executable, "-c", CODE], env={**base, **env}, capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def test_no_browser_at_all_is_browser_missing():
    assert run({}) == "browser_missing エラーを特定できません"


def test_browser_that_fails_to_start_is_browser_unexpected():
    assert run({"BROWSER": "/bin/false %s"}) == "browser_unexpected 予期せぬ例外が発生しました"


def test_a_working_browser_opens_the_url(tmp_path):
    seen = tmp_path / "url.txt"
    script = tmp_path / "fake-browser"
    script.write_text(f"#!/bin/sh\necho \"$1\" > {seen}\n")
    script.chmod(0o755)
    assert run({"BROWSER": f"{script} %s"}) == "opened"
    assert seen.read_text().strip() == "https://127.0.0.1:9/timecard/x"
