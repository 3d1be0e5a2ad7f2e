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
