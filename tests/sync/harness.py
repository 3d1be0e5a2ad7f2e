"""Real peers for the sync tests, all on loopback: a scripted HTTPS server signed by the reference server's CA
and a private tinyproxy. The reference server (killable and restartable on the same port), the SNTP responder
and a recorder's provisioning live in tests/support, shared with the other tiers; the names are kept here for
the sync tests that import them from this module."""
from __future__ import annotations

import json
import shutil
import ssl
import subprocess
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from dakoku_server.tls import create_local_ca
from tests.support.provisioning import FAST_RETRY, Provisioning
from tests.support.server_process import ServerProcess, free_port, wait_port
from tests.support.sntp import SntpResponder

__all__ = ["FAST_RETRY", "Provisioning", "ServerProcess", "SntpResponder", "free_port", "wait_port",
           "Scripted", "ScriptedHttps", "json_answer", "Tinyproxy"]


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
