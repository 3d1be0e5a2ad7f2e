"""Leaving the kiosk: only the manager can (設定 › 終了, behind the manager PIN); Escape, Alt+F4 and the
window's × are refused; in a terminal Ctrl+C (and a service manager's SIGTERM) stop it cleanly. And
`kiosk demo --size WxH` opens a window of that size."""
from __future__ import annotations

import os
import signal
import struct
import subprocess
import sys
import threading
import time

import pytest

from kivy_harness import running_app, touch, wait_until
from registration_screens import action, open_settings

pytestmark = [pytest.mark.ui, pytest.mark.timeout(180)]


@pytest.fixture
def app(window, tmp_path):
    with running_app(window, tmp_path) as running:
        yield running


def test_settings_quit_asks_once_more_then_stops_the_app(app):
    stopped = []
    app.stop = lambda *_args: stopped.append(True)   # App.stop would close the tests' shared window
    open_settings(app)
    touch(app.settings_screen.ids.quit_button)
    assert app.settings_screen.notice.startswith("タイムレコーダーを終了しますか")
    assert not stopped                                 # one tap on 終了 is not enough
    touch(action(app, "終了する"))
    assert stopped == [True]
    wait_until(lambda: [a for _at, a, _o, _d in app.kiosk.manager.recent(3)][:1] == ["settings.quit"])


def test_leaving_settings_instead_does_not_quit(app):
    stopped = []
    app.stop = lambda *_args: stopped.append(True)
    open_settings(app)
    touch(app.settings_screen.ids.quit_button)
    touch(app.settings_screen.ids.close_button)
    wait_until(lambda: app.manager.current == "standby")
    assert not stopped


def test_alt_f4_and_the_window_close_are_refused(app, window):
    assert window.dispatch("on_request_close") is True            # Alt+F4 / × reach Kivy as a close request
    assert app.manager.current == "standby" and app.root.parent is window


def test_escape_does_not_quit_as_the_kiosk_configures_kivy():
    """In a fresh interpreter, as `kiosk run` starts: after configure_kivy, Kivy's window ignores Escape."""
    code = ("from kiosk.settings import DisplaySettings\n"
            "from kiosk.ui.window import configure_kivy\n"
            "configure_kivy(DisplaySettings(fullscreen=False), windowed=True)\n"
            "from kivy.core.window import WindowBase\n"
            "print('exit_on_escape', WindowBase.on_keyboard.exit_on_escape)\n")
    env = {k: v for k, v in os.environ.items() if k != "DISPLAY"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env)
    assert "exit_on_escape False" in out.stdout, out.stderr[-2000:]


def _as_from_a_terminal() -> None:
    """Ctrl+C as at a terminal: a test run started in the background (``cmd &``, as CI may) hands its children
    SIGINT ignored, and a process rightly keeps a signal it was started ignoring."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _start_demo(tmp_path, *args: str) -> tuple[subprocess.Popen, list[str]]:
    env = {k: v for k, v in os.environ.items() if k != "DISPLAY"}   # SDL's offscreen driver: no X needed
    proc = subprocess.Popen([sys.executable, "-m", "kiosk", "demo", "--offline", "--data-dir", str(tmp_path),
                             *args], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env,
                            preexec_fn=_as_from_a_terminal)
    lines: list[str] = []
    threading.Thread(target=lambda: lines.extend(proc.stderr), daemon=True).start()
    return proc, lines


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["ctrl_c", "sigterm"])
def test_a_signal_stops_the_demo_cleanly(tmp_path, sig):
    proc, lines = _start_demo(tmp_path, "--size", "800x600")
    try:
        deadline = time.monotonic() + 90
        while not any("main loop" in line for line in lines):
            assert proc.poll() is None, "".join(lines[-40:])
            assert time.monotonic() < deadline, "the demo did not start"
            time.sleep(0.2)
        proc.send_signal(sig)
        try:
            status = proc.wait(30)
        except subprocess.TimeoutExpired:
            status = None
        assert status == 0, "".join(lines[-40:])
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    text = "".join(lines)
    # the orderly path: the main loop answered the request (the app stopped as 設定 › 終了 stops it), not an
    # exception raised wherever the signal landed
    assert f"stopped by a signal ({sig.name})" in text, text[-3000:]
    assert "KeyboardInterrupt" not in text and "SystemExit" not in text


def test_demo_size_opens_a_portrait_window(tmp_path):
    shot = tmp_path / "shot.png"
    env = {k: v for k, v in os.environ.items() if k != "DISPLAY"}
    proc = subprocess.run([sys.executable, "-m", "kiosk", "demo", "--offline", "--data-dir", str(tmp_path / "d"),
                           "--size", "800x1280", "--screenshot", str(shot)],
                          capture_output=True, text=True, timeout=120, env=env)
    pngs = sorted(tmp_path.glob("shot*.png"))
    assert proc.returncode == 0 and pngs, proc.stderr[-3000:]
    width, height = struct.unpack(">II", pngs[-1].read_bytes()[16:24])   # the PNG's IHDR
    assert (width, height) == (800, 1280)
