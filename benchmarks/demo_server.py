"""The reference server with the demo company, for the benchmarks that talk to it over loopback TLS.

``DemoServer(prefix)`` makes a work folder with a SQLite database holding the demo company (and its TLS files and
recorder certificate) and binds this process's server models to it, so a benchmark can fill it first; ``start()``
runs ``kiosk-server serve`` on it (tests/sync/harness.py) and ``provisioning()`` is the demo recorder's connection.
"""
from __future__ import annotations

import tempfile
from pathlib import Path

from dakoku_server.db import create_tables, open_database
from dakoku_server.demo import create_demo
from tests.sync.harness import Provisioning, ServerProcess, free_port


class DemoServer:
    def __init__(self, prefix: str):
        self.work = Path(tempfile.mkdtemp(prefix=prefix))
        self.db_url, self.port = f"sqlite:///{self.work / 'server.sqlite'}", free_port()
        self.keys_dir = str(self.work / "template-keys")       # the server's default beside the SQLite file
        open_database(self.db_url)
        create_tables()
        create_demo(str(self.work / "demo"), port=self.port)

    def start(self) -> ServerProcess:
        server = ServerProcess(self.db_url, self.work / "server.sqlite", self.work / "demo" / "tls", self.port,
                               self.work / "server.log")
        server.start()
        return server

    def provisioning(self) -> Provisioning:
        return Provisioning.from_text((self.work / "demo" / "recorder.txt").read_text("utf-8"))
