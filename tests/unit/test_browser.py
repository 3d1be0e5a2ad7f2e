"""The Browser adapter against this machine's real programs: an environment with no browser at all (gio is
installed here but has no https handler), fake browsers on PATH that fail or record the URL, a browser that
keeps running (it must be reaped, never left a zombie), and gio with a handler registered the freedesktop way."""
import shutil
import time
from pathlib import Path

import pytest

from kiosk.adapters import browser as browser_module
from kiosk.adapters.browser import SystemBrowser
from dakoku_core.errors import KioskError

URL = "https://127.0.0.1:9/timecard/x?t=1&u=2"
SYSTEM_PATH = "/usr/bin:/bin"


def fake(bin_dir: Path, name: str, body: str) -> Path:
    bin_dir.mkdir(exist_ok=True)
    script = bin_dir / name
    script.write_text("#!/bin/sh\n" + body + "\n")
    script.chmod(0o755)
    return script


def desktop_tools(tmp_path: Path) -> Path:
    """This machine's desktop openers (gio, xdg-open, xdg-mime) and nothing else: no browser, whatever is installed."""
    tools = tmp_path / "desktop-tools"
    if not tools.exists():
        tools.mkdir()
        for name in ("gio", "xdg-open", "xdg-mime"):
            found = shutil.which(name, path=SYSTEM_PATH)
            if found:
                (tools / name).symlink_to(found)
    return tools


def env_for(tmp_path: Path, bin_dir: Path | None = None, **extra) -> dict:
    tools = desktop_tools(tmp_path)
    path = f"{bin_dir}:{tools}" if bin_dir else str(tools)
    return {"PATH": path, "HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path / "config"),
            "XDG_DATA_HOME": str(tmp_path / "data"), "XDG_DATA_DIRS": str(tmp_path / "none"), **extra}


def open_error(browser: SystemBrowser) -> KioskError:
    with pytest.raises(KioskError) as caught:
        browser.open(URL)
    return caught.value


def test_no_browser_at_all_is_browser_missing(tmp_path):
    error = open_error(SystemBrowser(env=env_for(tmp_path)))
    assert (error.key, error.message()) == ("browser_missing", "エラーを特定できません")


def test_a_browser_that_exits_with_an_error_is_browser_unexpected(tmp_path):
    fake(tmp_path / "bin", "firefox", "echo 'Error: no DISPLAY environment variable specified' >&2; exit 1")
    error = open_error(SystemBrowser(env=env_for(tmp_path, tmp_path / "bin")))
    assert (error.key, error.message()) == ("browser_unexpected", "予期せぬ例外が発生しました")
    assert "status 1" in error.detail and "DISPLAY" in error.detail


def test_a_browser_that_cannot_be_executed_is_browser_unexpected(tmp_path):
    broken = tmp_path / "bin" / "chromium"
    broken.parent.mkdir()
    broken.write_bytes(b"\x7fELF garbage")   # executable bit, but not a program
    broken.chmod(0o755)
    error = open_error(SystemBrowser(env=env_for(tmp_path, tmp_path / "bin")))
    assert error.key == "browser_unexpected" and "chromium" in error.detail


def test_a_working_browser_on_path_opens_the_url(tmp_path):
    seen = tmp_path / "url.txt"
    fake(tmp_path / "bin", "firefox", f'echo "$1" > {seen}')
    SystemBrowser(env=env_for(tmp_path, tmp_path / "bin")).open(URL)
    assert seen.read_text().strip() == URL


def test_the_device_setting_wins_and_places_the_url(tmp_path):
    seen = tmp_path / "url.txt"
    fake(tmp_path / "bin", "firefox", "exit 1")   # would fail: must not be chosen
    kiosk_browser = fake(tmp_path / "kb", "kiosk-browser", f'echo "$@" > {seen}')
    SystemBrowser(f"{kiosk_browser} --kiosk %s --private", env=env_for(tmp_path, tmp_path / "bin")).open(URL)
    assert seen.read_text().strip() == f"--kiosk {URL} --private"


def test_browser_env_variable_is_honoured(tmp_path):
    seen = tmp_path / "url.txt"
    script = fake(tmp_path / "kb", "my-browser", f'echo "$1" > {seen}')
    SystemBrowser(env=env_for(tmp_path, BROWSER=f"/no/such/browser:{script}")).open(URL)
    assert seen.read_text().strip() == URL


def state_of(pid: int) -> str | None:
    """The process's state letter (Z: a zombie nobody reaped), or None once it is gone."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return None


def test_a_browser_that_keeps_running_started_and_is_reaped(tmp_path, monkeypatch):
    monkeypatch.setattr(browser_module, "START_GRACE", 0.3)
    seen, pid_file = tmp_path / "url.txt", tmp_path / "pid"
    fake(tmp_path / "bin", "firefox", f'echo $$ > {pid_file}; echo "$1" > {seen}; /bin/sleep 1')
    started = time.monotonic()
    SystemBrowser(env=env_for(tmp_path, tmp_path / "bin")).open(URL)
    assert time.monotonic() - started < 0.9   # did not wait for the browser to close
    pid = int(pid_file.read_text())
    assert state_of(pid) not in (None, "Z")   # still running when open() returned
    deadline = time.monotonic() + 10
    while state_of(pid) is not None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert state_of(pid) is None              # ended and reaped: no zombie left behind
    assert seen.read_text().strip() == URL


def register_https_handler(tmp_path: Path, program: Path) -> None:
    apps = tmp_path / "data" / "applications"
    apps.mkdir(parents=True)
    (apps / "fake-browser.desktop").write_text(
        "[Desktop Entry]\nType=Application\nName=Fake\n"
        f"Exec={program} %u\nMimeType=x-scheme-handler/https;\n")
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "mimeapps.list").write_text(
        "[Default Applications]\nx-scheme-handler/https=fake-browser.desktop\n")


@pytest.mark.skipif(not Path("/usr/bin/gio").exists(), reason="gio is not installed")
def test_gio_is_used_only_when_an_https_handler_is_registered(tmp_path):
    seen = tmp_path / "url.txt"
    program = fake(tmp_path / "apps-bin", "fake-browser", f'echo "$1" > {seen}')
    env = env_for(tmp_path)
    assert SystemBrowser(env=env).command_for(URL) is None   # gio alone: no browser
    register_https_handler(tmp_path, program)
    assert SystemBrowser(env=env).command_for(URL)[1:] == ["open", URL]
    SystemBrowser(env=env).open(URL)
    deadline = time.monotonic() + 10
    while not (seen.exists() and seen.read_text().strip()) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert seen.read_text().strip() == URL
