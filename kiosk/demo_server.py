"""`kiosk demo` with a real server: the reference server (kiosk-server) with the demo company, started on
loopback over TLS, and this kiosk provisioned to it, so a newcomer sees punches sync (stop the server to
see offline mode, start the demo again to see recovery). The server's files live in DATA_DIR/server."""
from __future__ import annotations

import atexit
import json
import logging
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)
READY_TIMEOUT = 30.0


@dataclass
class DemoServer:
    process: subprocess.Popen
    url: str
    log_file: object = None

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
        if self.log_file is not None:
            self.log_file.close()
            self.log_file = None


def server_available() -> bool:
    try:
        import flask  # noqa: F401
        import gunicorn  # noqa: F401
    except ImportError:
        return False
    return True


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _port_free(port: int) -> bool:
    """Nothing listens on ``port``. With SO_REUSEADDR, as the server itself binds: connections of the last run
    left in TIME_WAIT (up to a minute after it stopped) do not count, a listening socket does."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _server_cli(db_url: str, *args: str) -> list[str]:
    return [sys.executable, "-m", "dakoku_server.cli", "--db", db_url, *args]


def start_demo_server(data_dir: Path) -> DemoServer:
    """Create the demo company once, start the server and provision the kiosk. Raises RuntimeError; the
    server process never outlives a failure here, nor the kiosk (stopped at exit and on SIGTERM)."""
    server_dir = data_dir / "server"
    db_url = f"sqlite:///{server_dir / 'server.sqlite3'}"
    state = server_dir / "demo.json"
    if not state.exists():
        server_dir.mkdir(parents=True, exist_ok=True)
        subprocess.run(_server_cli(db_url, "demo", "--dir", str(server_dir), "--port", str(_free_port())),
                       check=True, capture_output=True, timeout=120)
    try:
        url = json.loads(state.read_text("utf-8"))["url"]
        port = url.rsplit(":", 1)[1].rstrip("/")
        int(port)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise RuntimeError(f"{state} is unreadable ({exc}); remove {server_dir} to create a new demo server")
    if not _port_free(int(port)):
        raise RuntimeError(f"the demo server's port {port} is in use; remove {server_dir} to make a new one")
    log_file = open(server_dir / "server.log", "ab")
    process = subprocess.Popen(_server_cli(db_url, "serve", "--tls-dir", str(server_dir / "tls"), "--port", port,
                                           "--workers", "1"), stdout=log_file, stderr=subprocess.STDOUT)
    server = DemoServer(process, url, log_file)
    try:
        _wait_ready(server, server_dir / "tls" / "ca.pem")
        _provision(data_dir, server_dir)
    except BaseException as exc:
        server.stop()
        if isinstance(exc, (RuntimeError, KeyboardInterrupt, SystemExit)):
            raise
        raise RuntimeError(f"provisioning the demo kiosk failed: {exc}") from exc
    _stop_with_this_process(server)
    return server


def _stop_with_this_process(server: DemoServer) -> None:
    atexit.register(server.stop)
    previous = signal.getsignal(signal.SIGTERM)

    def on_term(signum, frame):
        server.stop()
        if callable(previous):
            previous(signum, frame)
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, on_term)


def _wait_ready(server: DemoServer, ca_file: Path) -> None:
    import requests

    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"the demo server exited with status {server.process.returncode}")
        try:
            if requests.get(server.url + "healthz", verify=str(ca_file), timeout=2).ok:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    server.stop()
    raise RuntimeError("the demo server did not answer in time")


def _provision(data_dir: Path, server_dir: Path) -> None:
    """接続先変更 as an admin would do it: the demo recorder's connection string and certificate."""
    from kiosk.adapters.connection_file import ConnectionFile
    from kiosk.ports.recorder_api import ConnectionSettings

    connection_file = ConnectionFile(data_dir)
    wanted = ConnectionSettings((server_dir / "connection.txt").read_text("utf-8").strip(),
                                (server_dir / "certificate.txt").read_text("utf-8"))
    current = connection_file.load()
    if current is None or current.connection_string != wanted.connection_string:
        connection_file.save(wanted)
