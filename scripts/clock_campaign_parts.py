"""Parts of the clock campaign: the machine clock (libfaketime or a port), an SNTP responder on loopback, the
server's environment, a crash counter."""
from __future__ import annotations

import contextlib
import subprocess
import sys
import logging
import os
import socket
import struct
import threading
import time
from pathlib import Path

from tests.sync.harness import ServerProcess

LIBFAKETIME = "/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1"
FAKE_ENV = ("LD_PRELOAD", "FAKETIME", "FAKETIME_TIMESTAMP_FILE", "FAKETIME_NO_CACHE", "FAKETIME_DONT_FAKE_MONOTONIC")
NTP_DELTA = 2208988800


class Machine:
    """The machine clock the kiosk sees, and the true time beside it."""

    def __init__(self, faketime: bool):
        self.faketime, self.offset = faketime, 0.0
        self._lock = threading.Lock()
        self._file = os.environ.get("FAKETIME_TIMESTAMP_FILE")

    def wall(self) -> float:
        return time.time() if self.faketime else time.time() + self.offset

    def true(self) -> float:
        with self._lock:
            return time.time() - self.offset if self.faketime else time.time()

    def jump(self, seconds: float) -> None:
        with self._lock:
            self.offset += seconds
            if self.faketime:
                tmp = f"{self._file}.tmp"
                Path(tmp).write_text(f"{self.offset:+.0f}\n")
                os.replace(tmp, self._file)


class Sntp:
    """SNTP on loopback answering the true time plus ``skew``; ``reachable`` False drops queries; ``gate``
    (an Event) holds every query after the next one until it is set."""

    def __init__(self, machine: Machine):
        self.machine, self.skew, self.reachable, self.queries = machine, 0.0, True, 0
        self.gate: threading.Event | None = None
        self.held = threading.Event()
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    def _stamp(self) -> bytes:
        t = self.machine.true() + self.skew
        return struct.pack("!II", int(t) + NTP_DELTA, int((t - int(t)) * 2**32))

    def _serve(self) -> None:
        while True:
            try:
                data, peer = self.sock.recvfrom(512)
            except OSError:
                return
            if not self.reachable or len(data) < 48:
                continue
            self.queries += 1
            if self.gate is not None and self.queries >= 2 + self._gate_from:
                self.held.set()
                self.gate.wait(20)
            head = struct.pack("!BBbb", (4 << 3) | 4, 2, 6, -20) + b"\0" * 8 + b"LOCL"
            with contextlib.suppress(OSError):
                self.sock.sendto(head + self._stamp() + data[40:48] + self._stamp() + self._stamp(), peer)

    def hold_next_confirmation(self) -> threading.Event:
        self._gate_from, self.gate = self.queries, threading.Event()
        self.held.clear()
        return self.gate


class CrashCounter(logging.Handler):
    def __init__(self):
        super().__init__(logging.ERROR)
        self.count = 0

    def emit(self, record):
        self.count += bool(record.exc_info)


def server_env(fake_offset: str | None) -> dict[str, str]:
    """The server's environment: this one without libfaketime, or with its own fixed offset (``+2h``). Never
    a change to this process's environment: libfaketime here re-reads FAKETIME on every call."""
    env = {k: v for k, v in os.environ.items() if k not in FAKE_ENV}
    if fake_offset:
        env.update(LD_PRELOAD=LIBFAKETIME, FAKETIME=fake_offset)
    return env


class CampaignServer(ServerProcess):
    """The reference server started with an environment of its own."""

    env: dict | None = None

    def start(self) -> None:
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "dakoku_server.cli", "--db", self.db_url, "serve", "--host", "127.0.0.1",
                 "--port", str(self.port), "--tls-dir", str(self.tls_dir), "--workers", str(self.workers)],
                stdout=log, stderr=subprocess.STDOUT, env={**(self.env or os.environ), "PYTHONUNBUFFERED": "1"},
                start_new_session=True)
        self.wait_ready()


def card(n: int) -> str:
    return f"C10C{n:012X}"      # the campaign's employees' card IDs (8 bytes, hex)


def wait(predicate, timeout: float = 10.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.02)
    return False
