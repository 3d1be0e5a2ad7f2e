"""An HTTP fault layer for the network campaign: a TLS-terminating reverse proxy on loopback (certificate from the
reference server's own CA, so the kiosk still verifies TLS) that forwards each request to the reference server, or
answers for it. Modes, chosen per request by a seeded weighted draw:

- ``pass``        forward, answer with the server's answer
- ``503``         answer 503 without forwarding (an overloaded front)
- ``503_after``   forward (the server stores the punches), then answer 503: the answer is lost
- ``429``         answer 429 with ``Retry-After: 1`` without forwarding
- ``truncated``   forward, then send the server's headers and only half of its body, and close
- ``garbage``     forward, then answer 200 with random bytes as ``application/json``

When the server is down the layer resets the client's connection, as a dead server would.
"""
from __future__ import annotations

import random
import shutil
import socket
import ssl
import struct
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import requests

from dakoku_server.tls import create_local_ca

MODES = ("pass", "503", "503_after", "429", "truncated", "garbage")
FORWARDED_HEADERS = ("Content-Type", "X-Dakoku-Key-Id", "X-Dakoku-Timestamp", "X-Dakoku-Nonce", "X-Dakoku-Signature",
                     "If-None-Match")


class _Quiet(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address) -> None:   # resets and broken pipes are the point here
        pass


class HttpFaultLayer:
    def __init__(self, upstream_url: str, tls_dir: Path, work_dir: Path, *, weights: dict[str, float], seed: int):
        own = work_dir / "http-fault-tls"
        own.mkdir(parents=True, exist_ok=True)
        for name in ("ca.pem", "ca.key"):
            shutil.copy(tls_dir / name, own / name)
        files = create_local_ca(own, ["127.0.0.1"])
        self.upstream_url = upstream_url.rstrip("/")
        self.ca_file = str(tls_dir / "ca.pem")
        self.weights = weights
        self.counts: Counter = Counter()
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self._local = threading.local()
        layer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _any(self) -> None:
                layer.handle(self)

            do_GET = do_POST = do_DELETE = _any

            def log_message(self, *args) -> None:
                pass

        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(files.server_cert, files.server_key)
        self.httpd = _Quiet(("127.0.0.1", 0), Handler)
        self.httpd.socket = context.wrap_socket(self.httpd.socket, server_side=True)
        self.port = self.httpd.server_address[1]
        self._thread = threading.Thread(target=self.httpd.serve_forever, name="http-faults", daemon=True)
        self._thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def _choose(self) -> tuple[str, bytes]:
        with self._lock:
            names = list(self.weights)
            mode = self._rng.choices(names, [self.weights[n] for n in names])[0]
            self.counts[mode] += 1
            return mode, self._rng.randbytes(self._rng.randint(1, 64))

    def _session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = requests.Session()
            session.trust_env = False
        return session

    def handle(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else b""
        mode, noise = self._choose()
        if mode == "503":
            return self._answer(handler, 503, {"Content-Type": "text/plain"}, b"Service Unavailable")
        if mode == "429":
            return self._answer(handler, 429, {"Content-Type": "text/plain", "Retry-After": "1"}, b"Too Many Requests")
        try:
            upstream = self._session().request(
                handler.command, self.upstream_url + handler.path, data=body or None, verify=self.ca_file,
                headers={h: handler.headers[h] for h in FORWARDED_HEADERS if handler.headers.get(h)}, timeout=30)
        except requests.RequestException:
            self.counts["upstream_down"] += 1
            return self._reset(handler)
        headers = {h: upstream.headers[h] for h in ("Content-Type", "ETag", "Retry-After") if h in upstream.headers}
        if mode == "503_after":
            return self._answer(handler, 503, {"Content-Type": "text/plain"}, b"Bad Gateway")
        if mode == "garbage":
            return self._answer(handler, 200, {"Content-Type": "application/json"}, noise)
        if mode == "truncated":
            return self._answer(handler, upstream.status_code, headers, upstream.content,
                                cut=max(1, len(upstream.content) // 2))
        return self._answer(handler, upstream.status_code, headers, upstream.content)

    @staticmethod
    def _answer(handler, status: int, headers: dict, body: bytes, cut: int | None = None) -> None:
        handler.send_response(status)
        for name, value in headers.items():
            handler.send_header(name, value)
        handler.send_header("Content-Length", str(len(body)))
        if cut is not None:
            handler.send_header("Connection", "close")
        handler.end_headers()
        handler.wfile.write(body if cut is None else body[:cut])
        if cut is not None:
            handler.wfile.flush()
            handler.close_connection = True
            HttpFaultLayer._reset(handler)

    @staticmethod
    def _reset(handler) -> None:
        handler.close_connection = True
        try:
            handler.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            handler.connection.close()
        except OSError:
            pass


class Stopwatch:
    """Timestamps of events (e.g. connection attempts), to count them per second over a window."""

    def __init__(self):
        self.times: list[float] = []
        self._lock = threading.Lock()

    def tick(self) -> None:
        with self._lock:
            self.times.append(time.monotonic())

    def per_second(self, start: float, end: float) -> list[int]:
        with self._lock:
            times = [t for t in self.times if start <= t < end]
        buckets = [0] * max(1, int(end - start + 0.999))
        for t in times:
            buckets[min(len(buckets) - 1, int(t - start))] += 1
        return buckets
