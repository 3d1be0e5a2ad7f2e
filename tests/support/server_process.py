"""The reference server in a subprocess: a free loopback port, waiting until ``/healthz`` answers over TLS, and
stopping it (SIGTERM, then SIGKILL to its whole session). ``ServerProcess`` runs ``kiosk-server serve`` from this
checkout; tests that start the server some other way (an installed venv, the nginx front) use the functions."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import requests

READY_DEADLINE = 45.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_port(port: int, deadline: float = 10.0) -> None:
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port}")


def wait_ready(process: subprocess.Popen, url: str, ca_file: str, logs: Callable[[], str], *,
               deadline: float = READY_DEADLINE, pause: float = 0.2) -> None:
    """Until ``url``/healthz answers 200 (TLS verified against ``ca_file``); RuntimeError with ``logs()`` if the
    process exits first or ``deadline`` seconds pass."""
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}:\n{logs()}")
        try:
            if requests.get(url + "healthz", verify=ca_file, timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(pause)
    raise RuntimeError(f"server not ready after {deadline}s:\n{logs()}")


def stop(process: subprocess.Popen, *, timeout: float = 20.0, whole_session: bool = False) -> None:
    """SIGTERM to the server (gunicorn's arbiter stops its workers and its front), or to its whole session;
    SIGKILL to the whole session if it is still running after ``timeout`` s. The process must have been started
    with ``start_new_session=True``."""
    if process.poll() is not None:
        return
    if whole_session:
        os.killpg(process.pid, signal.SIGTERM)
    else:
        process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        kill(process)


def kill(process: subprocess.Popen) -> None:
    """SIGKILL the whole session: no graceful shutdown, requests in flight die."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


@dataclass
class ServerProcess:
    """``kiosk-server serve`` on 127.0.0.1:``port`` in its own session (a kill takes its workers too), its output
    appended to ``log_path``; restartable on the same port."""

    db_url: str
    db_path: Path | None
    tls_dir: Path
    port: int
    log_path: Path
    workers: int = 2
    process: subprocess.Popen | None = None
    threads: int | None = None                  # None: serve's default
    template_keys: str = ""                     # --template-keys (needed unless SQLite)
    extra: list[str] = field(default_factory=list)
    extra_env: dict = field(default_factory=dict)
    ready_deadline: float = READY_DEADLINE
    ready_pause: float = 0.1
    stop_timeout: float = 20.0

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}/"

    @property
    def ca_file(self) -> str:
        return str(self.tls_dir / "ca.pem")

    def command(self) -> list[str]:
        keys = ["--template-keys", self.template_keys] if self.template_keys else []
        threads = ["--threads", str(self.threads)] if self.threads is not None else []
        return [sys.executable, "-m", "dakoku_server.cli", "--db", self.db_url, *keys, "serve", "--host",
                "127.0.0.1", "--port", str(self.port), "--tls-dir", str(self.tls_dir), "--workers",
                str(self.workers), *threads, *self.extra]

    def start(self) -> None:
        env = {**os.environ, "PYTHONUNBUFFERED": "1", **self.extra_env}
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(self.command(), stdout=log, stderr=subprocess.STDOUT, env=env,
                                            start_new_session=True)
        try:
            self.wait_ready()
        except RuntimeError:
            self.stop()
            raise

    def wait_ready(self) -> None:
        wait_ready(self.process, self.url, self.ca_file, self.log_path.read_text, deadline=self.ready_deadline,
                   pause=self.ready_pause)

    def kill(self) -> None:
        if self.process:
            kill(self.process)

    def stop(self) -> None:
        if self.process:
            stop(self.process, timeout=self.stop_timeout, whole_session=True)
