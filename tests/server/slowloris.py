"""Slow clients and a measured kiosk, shared by tests/server/test_slow_clients.py and benchmarks/slow_clients.py.

:class:`SlowClients` keeps ``count`` TLS connections open from this host, each sending its request header one
byte every ``interval`` seconds and never finishing it; a connection the server closes is opened again at once
(the attacker of issue 10, item 1). :func:`measure` times signed kiosk requests made meanwhile.
:func:`isolated_server` runs a demo server in subprocesses only (its own database; this process's server models
stay bound to whatever they were bound to), with gunicorn alone or behind the nginx front.
"""
from __future__ import annotations

import os
import socket
import ssl
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import requests

from dakoku_core.protocol.certificate import parse_certificate
from dakoku_core.protocol.client import RecorderClient
from dakoku_core.protocol.connection import parse_connection_string
from tests.support.server_process import free_port, stop, wait_ready


class SlowClients:
    def __init__(self, host: str, port: int, ca_file: str, count: int = 50, interval: float = 5.0):
        self.address = (host, port)
        self.count, self.interval = count, interval
        self.context = ssl.create_default_context(cafile=ca_file)
        self.stopping = threading.Event()
        self.lock = threading.Lock()
        self.open_now = 0
        self.opened = 0            # connections made in all (the server closing one makes the attacker reopen it)
        self.threads = [threading.Thread(target=self._one, daemon=True, name=f"slow-{n}") for n in range(count)]

    def __enter__(self) -> "SlowClients":
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self.stopping.set()
        for thread in self.threads:
            thread.join(timeout=self.interval + 10)

    def _connect(self) -> ssl.SSLSocket:
        raw = socket.create_connection(self.address, timeout=30)
        try:
            tls = self.context.wrap_socket(raw, server_hostname=self.address[0])
        except OSError:
            raw.close()
            raise
        tls.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        return tls

    def _one(self) -> None:
        while not self.stopping.is_set():
            try:
                tls = self._connect()
            except OSError:
                self.stopping.wait(0.2)
                continue
            self._count(+1, opened=True)
            try:
                while not self.stopping.wait(self.interval):
                    tls.sendall(b"a")               # one header byte; the header never ends
            except OSError:
                pass                                # the server closed it: open another
            finally:
                self._count(-1)
                tls.close()

    def _count(self, delta: int, opened: bool = False) -> None:
        with self.lock:
            self.open_now += delta
            self.opened += int(opened)


@dataclass
class Timings:
    seconds: list[float] = field(default_factory=list)    # answered requests
    failures: list[str] = field(default_factory=list)
    slow_open: list[int] = field(default_factory=list)      # slow connections open at each request

    def within(self, limit: float) -> float:
        total = len(self.seconds) + len(self.failures)
        return sum(1 for s in self.seconds if s <= limit) / total if total else 0.0

    def percentile(self, p: float) -> float:
        ordered = sorted(self.seconds) or [float("inf")]
        return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def measure(client: RecorderClient, requests_count: int, slow: SlowClients | None = None,
            pause: float = 0.2) -> Timings:
    """Signed kiosk requests one after the other (server time, then master data with its ETag, in turn)."""
    timings = Timings()
    etag = None
    for n in range(requests_count):
        start = time.monotonic()
        try:
            response = client.server_time() if n % 2 == 0 else client.master_data(etag=etag)
            if response.status_code not in (200, 304):
                raise RuntimeError(f"HTTP {response.status_code}: {response.text[:100]}")
            etag = response.headers.get("ETag", etag)
            timings.seconds.append(time.monotonic() - start)
        except (requests.RequestException, RuntimeError) as exc:
            timings.failures.append(f"{type(exc).__name__}: {exc}"[:200])
        if slow is not None:
            timings.slow_open.append(slow.open_now)
        time.sleep(pause)
    return timings


@dataclass
class IsolatedServer:
    url: str
    port: int
    ca_file: str
    directory: Path
    log_path: Path
    runtime_dir: Path

    def client(self, timeout: float = 5.0) -> RecorderClient:
        text = (self.directory / "demo" / "recorder.txt").read_text("utf-8")
        client = RecorderClient(parse_connection_string(text.split("\n")[1]), parse_certificate(text),
                                ca_file=self.ca_file)
        client.timeout = timeout
        return client

    def logs(self) -> str:
        access = self.runtime_dir / "access.log"
        text = self.log_path.read_text("utf-8", errors="replace")
        return text + (access.read_text("utf-8", errors="replace") if access.exists() else "")


def _cli(db_url: str, *args: str) -> list[str]:
    return [sys.executable, "-m", "dakoku_server.cli", "--db", db_url, *args]


@contextmanager
def isolated_server(directory: Path, *, front: bool, workers: int = 2, threads: int = 4) -> Iterator[IsolatedServer]:
    """The demo company served over TLS on loopback, gunicorn alone or behind nginx, with the access log on."""
    port = free_port()
    db_url = f"sqlite:///{directory / 'server.sqlite'}"
    env = {k: v for k, v in os.environ.items() if k != "DAKOKU_TEMPLATE_KEYS"}
    subprocess.run(_cli(db_url, "demo", "--dir", str(directory / "demo"), "--port", str(port)), check=True,
                   capture_output=True, timeout=120, env=env)
    runtime = directory / "front"
    extra = ["--front-proxy", "nginx", "--runtime-dir", str(runtime)] if front else []
    log_path = directory / "server.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            _cli(db_url, "serve", "--host", "127.0.0.1", "--port", str(port), "--tls-dir",
                 str(directory / "demo" / "tls"), "--workers", str(workers), "--threads", str(threads),
                 "--access-log", *extra),
            stdout=log, stderr=subprocess.STDOUT, env={**env, "PYTHONUNBUFFERED": "1"}, start_new_session=True)
    server = IsolatedServer(f"https://127.0.0.1:{port}/", port, str(directory / "demo" / "tls" / "ca.pem"),
                            directory, log_path, runtime)
    try:
        wait_ready(process, server.url, server.ca_file, server.logs, deadline=60.0)
        yield server
    finally:
        stop(process, timeout=30)
