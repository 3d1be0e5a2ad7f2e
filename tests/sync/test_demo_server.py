"""`kiosk demo`'s server: started on loopback with the demo company, the kiosk provisioned to it, and
stopped again; a broken state file is a clear error and leaves no server behind."""
from __future__ import annotations

import pytest

from kiosk.adapters.connection_file import ConnectionFile
from kiosk.demo_server import start_demo_server

pytestmark = pytest.mark.timeout(180)


def test_demo_server_starts_provisions_and_stops(tmp_path):
    server = start_demo_server(tmp_path)
    try:
        assert server.process.poll() is None and server.url.startswith("https://127.0.0.1:")
        settings = ConnectionFile(tmp_path).load()
        assert settings is not None and server.url in settings.connection_string.replace("%3A", ":").replace(
            "%2F", "/")
    finally:
        server.stop()
    assert server.process.poll() is not None
    again = start_demo_server(tmp_path)          # the second start reuses the demo company
    again.stop()


def test_unreadable_demo_state_is_an_error_without_a_leftover_server(tmp_path):
    (tmp_path / "server").mkdir()
    (tmp_path / "server" / "demo.json").write_text("{not json")
    with pytest.raises(RuntimeError, match="unreadable"):
        start_demo_server(tmp_path)


def _time_wait_port() -> int:
    """A loopback port whose server side closed first: it is left in TIME_WAIT, as the demo server's is."""
    import socket

    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    port = listener.getsockname()[1]
    client = socket.create_connection(("127.0.0.1", port))
    accepted, _ = listener.accept()
    accepted.close()            # the server closes first → its end of the connection is in TIME_WAIT
    client.recv(1)
    client.close()
    listener.close()
    return port


def test_port_check_ignores_time_wait_but_not_a_listener():
    import socket

    from kiosk.demo_server import _port_free

    port = _time_wait_port()
    plain = socket.socket()     # what the old check did: bind without SO_REUSEADDR
    with pytest.raises(OSError):
        plain.bind(("127.0.0.1", port))
    plain.close()
    assert _port_free(port)
    with socket.socket() as listener:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", port))
        listener.listen(1)
        assert not _port_free(port)


def test_a_demo_restarted_at_once_gets_its_port_back(tmp_path):
    """Stop the demo after it served requests and start it again at once: it comes up on the same port."""
    import requests

    server = start_demo_server(tmp_path)
    ca = str(tmp_path / "server" / "tls" / "ca.pem")
    try:
        for _ in range(3):      # the server closes each connection: its side stays in TIME_WAIT
            assert requests.get(server.url + "healthz", verify=ca, timeout=5).ok
    finally:
        server.stop()
    again = start_demo_server(tmp_path)
    try:
        assert again.url == server.url
        assert requests.get(again.url + "healthz", verify=ca, timeout=5).ok
    finally:
        again.stop()
