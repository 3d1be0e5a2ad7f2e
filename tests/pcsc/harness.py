"""A private pcscd for tests and benchmarks: socket activation, a private reader.conf, vpcd readers.

pcscd 1.9.9 ignores PCSCLITE_CSOCK_NAME itself but honours systemd socket activation without systemd:
we bind the Unix socket ourselves and hand it over as fd 3 with LISTEN_FDS=1 and LISTEN_PID set to
pcscd's own pid (a tiny Python launcher sets them and execs pcscd, so its pid is pcscd's pid).
The client library reads PCSCLITE_CSOCK_NAME once per process: set it before the first PC/SC call.
"""
from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

PCSCD = shutil.which("pcscd") or "/usr/sbin/pcscd"
PASORI = "SONY FeliCa RC-S300/P"          # FRIENDLYNAMEs mimicking real readers
OTHER = "ACS ACR122U PICC Interface"      # listed first in tests: the adapter must not take readers()[0]
EVENT_TIMEOUT = 5.0                       # an event normally comes within 0.4 s; CI machines are noisy
VPCD_DRIVER = "/usr/lib/pcsc/drivers/serial/libifdvpcd.so"

_LAUNCHER = (
    "import os, sys\n"
    "fd = int(sys.argv[1])\n"
    "if fd != 3:\n"
    "    os.dup2(fd, 3)\n"
    "    os.close(fd)\n"
    "os.set_inheritable(3, True)\n"
    "os.environ['LISTEN_FDS'] = '1'\n"
    "os.environ['LISTEN_PID'] = str(os.getpid())\n"
    "os.execv(sys.argv[2], sys.argv[2:])\n"
)


def missing_stack() -> str | None:
    """Why the real PC/SC stack cannot run here, or None when it can."""
    if not os.path.exists(PCSCD):
        return "pcscd is not installed (apt install pcscd)"
    if not os.path.exists(VPCD_DRIVER):
        return "the vpcd driver is not installed (apt install vsmartcard-vpcd)"
    try:
        import smartcard.scard  # noqa: F401
    except ImportError as exc:
        return f"pyscard is not importable: {exc}"
    return None


@dataclass(frozen=True)
class VirtualReader:
    """One vpcd reader.conf entry: it yields two readers, '<name> 00 00' on port and '<name> 00 01' on port+1."""

    friendly_name: str
    port: int

    @property
    def slot_names(self) -> tuple[str, str]:
        return f"{self.friendly_name} 00 00", f"{self.friendly_name} 00 01"


def free_port_pair() -> int:
    """A TCP port p such that p and p+1 are both free now (vpcd takes two per entry)."""
    for _ in range(50):
        with socket.socket() as probe:
            probe.bind(("", 0))
            port = probe.getsockname()[1]
        if port >= 65535:
            continue
        try:
            with socket.socket() as a, socket.socket() as b:
                a.bind(("", port))
                b.bind(("", port + 1))
        except OSError:
            continue
        return port
    raise RuntimeError("no free pair of TCP ports")


class PrivatePcscd:
    """Start/stop/restart a pcscd bound to a private socket with a given set of vpcd readers."""

    def __init__(self, workdir: Path | None = None):
        """``workdir`` (created on start) holds the socket, the reader.conf dirs and pcscd's logs."""
        unique = f"dakoku-pcscd-{os.getpid()}-{secrets.token_hex(4)}"
        self.workdir = Path(workdir or Path(tempfile.gettempdir()) / unique)
        self.socket_path = str(self.workdir / "pcscd.comm")
        self.proc: subprocess.Popen | None = None
        self.readers: list[VirtualReader] = []
        self._starts = 0

    def client_env(self) -> None:
        """Point this process's PC/SC client library at our socket (before its first PC/SC call)."""
        os.environ["PCSCLITE_CSOCK_NAME"] = self.socket_path

    def start(self, readers: list[VirtualReader]) -> None:
        if self.proc is not None:
            raise RuntimeError("pcscd already running")
        self._starts += 1
        self.readers = list(readers)
        self.workdir.mkdir(mode=0o700, parents=True, exist_ok=True)
        confdir = self.workdir / f"reader.conf.d.{self._starts}"
        confdir.mkdir()
        (confdir / "vpcd").write_text("".join(
            f'FRIENDLYNAME "{r.friendly_name}"\nDEVICENAME /dev/null:{r.port}\n'
            f"LIBPATH {self._driver_copy(index)}\nCHANNELID {r.port}\n\n" for index, r in enumerate(readers)))
        if os.path.exists(self.socket_path):
            os.unlink(self.socket_path)
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            listener.bind(self.socket_path)
            listener.listen(16)
            log = open(self.workdir / f"pcscd.{self._starts}.log", "wb")
            cmd = [sys.executable, "-c", _LAUNCHER, str(listener.fileno()), PCSCD,
                   "--foreground", "--auto-exit", "--config", str(confdir)]
            if os.environ.get("DAKOKU_PCSCD_DEBUG"):
                cmd += ["--debug", "--apdu"]
            self.proc = subprocess.Popen(cmd, pass_fds=(listener.fileno(),), stdin=subprocess.DEVNULL,
                                         stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
            log.close()
        finally:
            listener.close()

    def _driver_copy(self, index: int) -> str:
        """vpcd keeps its sockets in a global array indexed by slot only, so two reader.conf entries
        sharing one loaded driver collide (both '... 00 00' readers end up on the last entry's port).
        Each entry after the first gets its own copy of the driver file: dlopen loads it separately."""
        if index == 0:
            return VPCD_DRIVER
        copy = self.workdir / f"libifdvpcd-{index}.so"
        if not copy.exists():
            shutil.copyfile(VPCD_DRIVER, copy)
        return str(copy)

    def stop(self) -> None:
        """Unlink the socket first (no client reconnects to a dying daemon), then SIGTERM pcscd."""
        if self.proc is None:
            return
        if os.path.exists(self.socket_path):
            os.unlink(self.socket_path)
        self.proc.terminate()
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=5)
        self.proc = None

    def restart(self, readers: list[VirtualReader] | None = None) -> None:
        self.stop()
        self.start(self.readers if readers is None else readers)

    def log_tail(self, lines: int = 40) -> str:
        logs = sorted(self.workdir.glob("pcscd.*.log"))
        if not logs:
            return ""
        return "\n".join(logs[-1].read_text(errors="replace").splitlines()[-lines:])

    def close(self) -> None:
        self.stop()
        if not os.environ.get("DAKOKU_PCSCD_DEBUG"):
            shutil.rmtree(self.workdir, ignore_errors=True)


def wait_reader_card(reader: str, present: bool, timeout: float = 5.0) -> None:
    """Wait until pcscd itself reports a card (or none) on ``reader`` (it polls vpcd every 0.4 s).
    Uses its own PC/SC context; never connect() to a vpcd port to probe (that inserts a card)."""
    from kiosk.adapters import pcsc_reader as pcsc

    wanted = pcsc.STATE_PRESENT if present else pcsc.STATE_EMPTY
    context = pcsc.establish_context()
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            hresult, states = pcsc.status_change(context, 0, [(reader, pcsc.STATE_UNAWARE)])
            if hresult == pcsc.SUCCESS and states[0][1] & wanted:
                return
            time.sleep(0.01)
        raise AssertionError(f"pcscd does not see {'a' if present else 'no'} card on {reader} after {timeout} s")
    finally:
        pcsc.release_context(context)
