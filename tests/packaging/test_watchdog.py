"""Issue 13: the kiosk speaks systemd's notification protocol itself (kiosk/adapters/watchdog.py): READY=1 once
its main loop runs, then WATCHDOG=1 from that loop, only when NOTIFY_SOCKET is set. The unit that relies on it:
packaging/linux/dakoku-kiosk.service (Type=notify, WatchdogSec=)."""
from __future__ import annotations

import os
import socket
import subprocess
import sys

import pytest

from kiosk.adapters.watchdog import SystemdNotifier


def listening(path: str) -> socket.socket:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    sock.settimeout(0.5)
    return sock


def received(sock: socket.socket) -> list[str]:
    messages = []
    try:
        while True:
            messages.append(sock.recv(4096).decode())
    except TimeoutError:
        return messages


def test_nothing_without_notify_socket():
    assert SystemdNotifier.from_environment({}) is None
    assert SystemdNotifier.from_environment({"WATCHDOG_USEC": "30000000"}) is None


def test_ready_and_pings_reach_the_socket(tmp_path):
    with listening(str(tmp_path / "notify")) as sock:
        notifier = SystemdNotifier.from_environment({"NOTIFY_SOCKET": str(tmp_path / "notify"),
                                                     "WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "1"})
        assert notifier.interval == 15.0   # half the watchdog period, whoever the service's main process is
        assert notifier.ready() and notifier.ping()
        assert received(sock) == ["READY=1\nSTATUS=standby shown", "WATCHDOG=1"]


def test_an_abstract_socket_name_is_understood():
    name = f"@dakoku-test-{os.getpid()}"
    with listening("\0" + name[1:]) as sock:
        assert SystemdNotifier.from_environment({"NOTIFY_SOCKET": name}).ping()
        assert received(sock) == ["WATCHDOG=1"]


def test_a_missing_socket_is_logged_once_not_raised(tmp_path, caplog):
    notifier = SystemdNotifier(str(tmp_path / "gone"), 2_000_000)
    assert not notifier.ping() and not notifier.ping()
    assert len([r for r in caplog.records if "systemd notification" in r.getMessage()]) == 1


def test_the_kivy_main_loop_pings_after_the_app_started(tmp_path, monkeypatch):
    from kivy.event import EventDispatcher

    from kiosk.ui.launcher import _notify_systemd

    class App(EventDispatcher):
        __events__ = ("on_start",)

        def on_start(self):
            self.own_start_ran = True

    monkeypatch.setenv("NOTIFY_SOCKET", str(tmp_path / "notify"))
    monkeypatch.setenv("WATCHDOG_USEC", "30000000")
    app = App()
    with listening(str(tmp_path / "notify")) as sock:
        _notify_systemd(app)
        assert received(sock) == []                     # nothing before the app has started
        app.dispatch("on_start")
        assert app.own_start_ran                        # the app's own on_start still runs
        ping = app.watchdog_ping                        # the Kivy clock event, every 15 s
        try:
            assert ping.timeout == 15.0
            for _ in range(3):   # what the main loop does when the event is due (no Clock.tick here: the
                ping.get_callback()(15.0)   # session's UI tests share this process's clock)
        finally:
            ping.cancel()
        messages = received(sock)
    assert messages[0].startswith("READY=1") and messages[1:] == ["WATCHDOG=1"] * 3, messages


@pytest.mark.ui
@pytest.mark.timeout(180)
def test_the_kiosk_process_says_ready_and_writes_its_log_file(tmp_path):
    data = tmp_path / "data"
    with listening(str(tmp_path / "notify")) as sock:
        env = dict(os.environ, NOTIFY_SOCKET=str(tmp_path / "notify"), WATCHDOG_USEC="30000000")
        proc = subprocess.run([sys.executable, "-m", "kiosk", "demo", "--offline", "--data-dir", str(data),
                               "--screenshot", str(tmp_path / "shot.png")],
                              capture_output=True, text=True, timeout=150, env=env)
        assert proc.returncode == 0, proc.stderr[-3000:]
        messages = received(sock)
    assert messages and messages[0].startswith("READY=1"), messages
    log = (data / "logs" / "kiosk.log").read_text("utf-8")
    assert "systemd notification: ready, then a watchdog ping every 15.0 s" in log
