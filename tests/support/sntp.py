"""A tiny SNTP responder on loopback whose clock is off by a known amount; optionally a slow one, that holds
the queries from number ``hold_from`` on until :meth:`SntpResponder.release` (without sleeping)."""
from __future__ import annotations

import socket
import struct
import threading
import time

NTP_EPOCH_DELTA = 2208988800


def ntp_stamp(t: float) -> bytes:
    seconds = int(t) + NTP_EPOCH_DELTA
    return struct.pack("!II", seconds, int((t - int(t)) * 2**32))


class SntpResponder:
    """Answers 48-byte SNTP requests with this machine's time plus ``skew`` seconds. ``queries`` counts them,
    :meth:`wait_queries` waits for a count; with ``hold_from``, ``held`` is set once a query is held."""

    def __init__(self, skew: float, hold_from: int | None = None):
        self.skew, self.hold_from = skew, hold_from
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.queries = 0
        self.asked = threading.Condition()
        self.held = threading.Event()
        self._release = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def release(self) -> None:
        self._release.set()

    def wait_queries(self, count: int, timeout: float = 10.0) -> bool:
        with self.asked:
            return self.asked.wait_for(lambda: self.queries >= count, timeout)

    def _serve(self) -> None:
        while True:
            try:
                data, peer = self.sock.recvfrom(512)
            except OSError:
                return
            if len(data) < 48:
                continue
            with self.asked:
                self.queries += 1
                number = self.queries
                self.asked.notify_all()
            if self.hold_from is not None and number >= self.hold_from:
                self.held.set()
                self._release.wait(30)
            try:
                self.sock.sendto(self._answer(data), peer)
            except OSError:
                return

    def _answer(self, query: bytes) -> bytes:
        received = time.time() + self.skew
        header = struct.pack("!BBbb", (0 << 6) | (4 << 3) | 4, 2, 6, -20)   # LI 0, v4, server; stratum 2
        body = header + b"\0" * 8 + b"LOCL" + ntp_stamp(received) + query[40:48] + ntp_stamp(received)
        return body + ntp_stamp(time.time() + self.skew)

    def close(self) -> None:
        self._release.set()
        self.sock.close()
