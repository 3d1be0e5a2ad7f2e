"""A fault-injecting TCP proxy on loopback, between the kiosk client and the reference server.

TLS passes through untouched (the client still verifies the real server), so faults hit the byte stream:

- ``pass``        relay both ways (optionally only until ``budget`` bytes came back, then reset)
- ``refuse``      accept, then reset at once (RST, no byte relayed)
- ``stall``       accept and read, never answer (the client's read timeout fires)
- ``reset``       relay, but reset once a random number of bytes came back from the server (mid-body
                  for a large answer: the server has done the work, the client never sees the answer)
- ``garbage``     answer the TLS ClientHello with random bytes
- ``drip``        relay, the server's bytes trickling back in small chunks with pauses

``plan`` picks a mode per connection: a fixed mode name, or a seeded random choice by weight.
"""
from __future__ import annotations

import random
import select
import socket
import struct
import threading
import time

MODES = ("pass", "refuse", "stall", "reset", "garbage", "drip")


def _rst(sock: socket.socket) -> None:
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    sock.close()


class FaultProxy:
    def __init__(self, upstream_port: int, mode: str = "pass", *, seed: int = 0,
                 weights: dict[str, float] | None = None, reset_range: tuple[int, int] = (3000, 20000),
                 pass_budget: tuple[int, int] | None = None, drip: tuple[int, float] = (512, 0.003)):
        self.upstream_port = upstream_port
        self.mode = mode
        self._rng = random.Random(seed)
        self.weights = weights
        self.reset_range = reset_range
        self.pass_budget = pass_budget
        self.drip = drip
        self.counts = {m: 0 for m in MODES}
        self._listener = socket.socket()
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(64)
        self.port = self._listener.getsockname()[1]
        self._stopping = threading.Event()
        self._sockets: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._accept_loop, name="fault-proxy", daemon=True)

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}/"

    def start(self) -> "FaultProxy":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self._listener.close()
        with self._lock:
            for sock in list(self._sockets):
                _rst(sock)
        self._thread.join(5)

    def __enter__(self) -> "FaultProxy":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- plumbing ----------------------------------------------------------------------------------
    def _choose(self) -> tuple[str, int | None]:
        with self._lock:
            mode = self.mode
            if self.weights:
                names = list(self.weights)
                mode = self._rng.choices(names, [self.weights[n] for n in names])[0]
            cut = None
            if mode == "reset":
                cut = self._rng.randint(*self.reset_range)
            elif mode == "pass" and self.pass_budget:
                cut = self._rng.randint(*self.pass_budget)
            garbage = self._rng.randbytes(256)
            self.counts[mode] += 1
        self._garbage = garbage
        return mode, cut

    def _track(self, sock: socket.socket) -> socket.socket:
        with self._lock:
            self._sockets.add(sock)
        return sock

    def _accept_loop(self) -> None:
        self._listener.settimeout(0.1)      # so stop() is noticed: close() does not wake accept()
        while not self._stopping.is_set():
            try:
                client, _ = self._listener.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            client.settimeout(None)
            mode, cut = self._choose()
            threading.Thread(target=self._handle, args=(self._track(client), mode, cut), daemon=True).start()

    def _handle(self, client: socket.socket, mode: str, cut: int | None) -> None:
        if mode == "refuse":
            _rst(client)
            return
        if mode == "stall":
            self._drain(client)
            return
        if mode == "garbage":
            try:
                client.recv(4096)
                client.sendall(self._garbage)
            except OSError:
                pass
            client.close()
            return
        try:
            upstream = self._track(socket.create_connection(("127.0.0.1", self.upstream_port), timeout=5))
            upstream.settimeout(None)
        except OSError:
            _rst(client)                      # the server is down: the client sees a reset
            return
        self._relay(client, upstream, cut, self.drip if mode == "drip" else None)

    def _drain(self, client: socket.socket) -> None:
        try:
            while not self._stopping.is_set() and client.recv(65536):
                pass
        except OSError:
            pass
        client.close()

    def _relay(self, client: socket.socket, upstream: socket.socket, cut: int | None,
               drip: tuple[int, float] | None) -> None:
        """Both directions in one thread (so a reset really resets: no other thread holds the sockets).
        ``cut``: reset both sides once that many bytes came back from the server."""
        back = 0
        open_ends = {client: upstream, upstream: client}
        try:
            while open_ends and not self._stopping.is_set():
                readable, _, _ = select.select(list(open_ends), [], [], 0.5)
                for src in readable:
                    dst = open_ends[src]
                    data = src.recv(65536)
                    if not data:
                        dst.shutdown(socket.SHUT_WR)
                        del open_ends[src]
                        continue
                    if src is upstream and cut is not None and back + len(data) >= cut:
                        dst.sendall(data[:cut - back])
                        raise ConnectionResetError("cut")
                    if src is upstream and drip:
                        for i in range(0, len(data), drip[0]):
                            dst.sendall(data[i:i + drip[0]])
                            time.sleep(drip[1])
                    else:
                        dst.sendall(data)
                    if src is upstream:
                        back += len(data)
        except OSError:
            pass
        _rst(client)
        _rst(upstream)
