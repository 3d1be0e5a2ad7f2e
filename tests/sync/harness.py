"""Real peers for the sync tests, all on loopback: the reference server (gunicorn over TLS, killable and
restartable on the same port), a scripted HTTPS server signed by the same CA, a tiny SNTP responder whose
clock is off by a known amount, and a private tinyproxy."""
from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import ssl
import struct
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import requests

from kiosk.adapters.recorder_client import KioskRecorderClient, RetryPolicy
from dakoku_core.protocol.certificate import parse_certificate
from dakoku_core.protocol.connection import ConnectionString, parse_connection_string
from dakoku_server.tls import create_local_ca

READY_DEADLINE = 45.0
FAST_RETRY = RetryPolicy(attempts=4, max_elapsed=10.0, initial_wait=0.02, max_wait=0.1, max_retry_after=5.0)


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


@dataclass(frozen=True)
class Provisioning:
    """A recorder's connection string and certificate texts, as an admin hands them over."""

    connection_text: str
    certificate_text: str

    @classmethod
    def from_text(cls, text: str) -> "Provisioning":
        return cls(text.split("\n")[1].strip(), text[text.index("-----BEGIN"):])

    @property
    def connection(self) -> ConnectionString:
        return parse_connection_string(self.connection_text)

    def at(self, url: str) -> ConnectionString:
        """The same connection, pointed at another address (a fault proxy, a scripted server)."""
        return replace(self.connection, url=url)

    def client(self, url: str | None = None, **kwargs) -> KioskRecorderClient:
        kwargs.setdefault("retry", FAST_RETRY)
        kwargs.setdefault("timeout", (2.0, 3.0))
        connection = self.at(url) if url else self.connection
        return KioskRecorderClient(connection, parse_certificate(self.certificate_text), **kwargs)


@dataclass
class ServerProcess:
    """The reference server in a subprocess (own session, so a kill takes its workers too)."""

    db_url: str
    db_path: Path
    tls_dir: Path
    port: int
    log_path: Path
    workers: int = 2
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}/"

    @property
    def ca_file(self) -> str:
        return str(self.tls_dir / "ca.pem")

    def start(self) -> None:
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "dakoku_server.cli", "--db", self.db_url, "serve", "--host", "127.0.0.1",
                 "--port", str(self.port), "--tls-dir", str(self.tls_dir), "--workers", str(self.workers)],
                stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
        self.wait_ready()

    def wait_ready(self) -> None:
        deadline = time.monotonic() + READY_DEADLINE
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited with {self.process.returncode}:\n{self.log_path.read_text()}")
            try:
                if requests.get(self.url + "healthz", verify=self.ca_file, timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"server not ready after {READY_DEADLINE}s:\n{self.log_path.read_text()}")

    def kill(self) -> None:
        """SIGKILL the whole process group: no graceful shutdown, requests in flight die."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()


# -- a scripted HTTPS server (same CA as the reference server) -------------------------------------------
@dataclass
class Scripted:
    """Answers in order; the last one repeats. Each answer: (status, headers, body bytes)."""

    answers: list[tuple[int, dict, bytes]]
    requests: list[tuple[str, str, float]] = field(default_factory=list)

    def next(self, method: str, path: str) -> tuple[int, dict, bytes]:
        self.requests.append((method, path, time.monotonic()))
        return self.answers[min(len(self.requests) - 1, len(self.answers) - 1)]


def json_answer(status: int, body: object, **headers: str) -> tuple[int, dict, bytes]:
    return status, {"Content-Type": "application/json", **headers}, json.dumps(body).encode()


class ScriptedHttps:
    def __init__(self, tls_dir: Path, work_dir: Path):
        own = work_dir / "scripted-tls"
        own.mkdir(parents=True, exist_ok=True)
        for name in ("ca.pem", "ca.key"):
            shutil.copy(tls_dir / name, own / name)
        files = create_local_ca(own, ["127.0.0.1"])
        self.script = Scripted([json_answer(200, {})])
        script = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                status, headers, body = script.script.next(self.command, self.path)
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = do_DELETE = _answer

            def log_message(self, *args) -> None:
                pass

        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(files.server_cert, files.server_key)
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.httpd.socket = context.wrap_socket(self.httpd.socket, server_side=True)
        self.port = self.httpd.server_address[1]
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}/"

    def play(self, *answers: tuple[int, dict, bytes]) -> Scripted:
        self.script = Scripted(list(answers))
        return self.script

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


# -- SNTP ---------------------------------------------------------------------------------------------------
NTP_EPOCH_DELTA = 2208988800


def _ntp_stamp(t: float) -> bytes:
    seconds = int(t) + NTP_EPOCH_DELTA
    return struct.pack("!II", seconds, int((t - int(t)) * 2**32))


class SntpResponder:
    """Answers 48-byte SNTP requests with this machine's time plus ``skew`` seconds."""

    def __init__(self, skew: float):
        self.skew = skew
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.queries = 0
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            try:
                data, peer = self.sock.recvfrom(512)
            except OSError:
                return
            if len(data) < 48:
                continue
            received = time.time() + self.skew
            self.queries += 1
            header = struct.pack("!BBbb", (0 << 6) | (4 << 3) | 4, 2, 6, -20)   # LI 0, v4, server; stratum 2
            body = header + b"\0" * 8 + b"LOCL" + _ntp_stamp(received) + data[40:48] + _ntp_stamp(received)
            self.sock.sendto(body + _ntp_stamp(time.time() + self.skew), peer)

    def close(self) -> None:
        self.sock.close()


# -- tinyproxy -------------------------------------------------------------------------------------------------
class Tinyproxy:
    def __init__(self, work_dir: Path, connect_port: int, user: str, password: str):
        self.port = free_port()
        conf = work_dir / "tinyproxy.conf"
        conf.write_text("\n".join([
            f"Port {self.port}", "Listen 127.0.0.1", "Allow 127.0.0.1", f"ConnectPort {connect_port}",
            f"BasicAuth {user} {password}", "LogLevel Info", "MaxClients 20", "Timeout 30", ""]))
        self.log = open(work_dir / "tinyproxy.log", "wb")
        self.process = subprocess.Popen(["tinyproxy", "-d", "-c", str(conf)], stdout=self.log,
                                        stderr=subprocess.STDOUT, start_new_session=True)
        wait_port(self.port)

    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self.log.close()
