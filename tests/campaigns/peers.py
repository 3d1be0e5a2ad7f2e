"""The reference server with the demo company, set up by its own CLI in a subprocess (``kiosk-server demo``), so a
test process never binds the server's database models itself; shared by the campaign tests and the server fuzzing."""
from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import requests

from dakoku_core.protocol.certificate import parse_certificate
from dakoku_core.protocol.client import RecorderAuth
from tests.support.provisioning import Provisioning
from tests.support.server_process import ServerProcess, free_port


@dataclass
class DemoPeer:
    process: ServerProcess
    provisioning: Provisioning
    demo: dict                      # demo.json: url, cards (card_id, employee_code, employee_key, role)

    def employee_key(self, code: str) -> str:
        return next(c["employee_key"] for c in self.demo["cards"] if c["employee_code"] == code)

    def signed_session(self) -> requests.Session:
        """A requests session that signs like the demo recorder (pass ``verify=self.process.ca_file`` per request:
        a session's own ``verify`` loses to REQUESTS_CA_BUNDLE from the environment)."""
        session = requests.Session()
        session.auth = RecorderAuth(parse_certificate(self.provisioning.certificate_text))
        return session

    def punch_rows(self, uuids: list[str]) -> dict[str, int]:
        """uuid → rows in the server's record, read from its SQLite file."""
        with sqlite3.connect(self.process.db_path, timeout=30) as db:
            counts = dict(db.execute("SELECT uuid, COUNT(*) FROM punch GROUP BY uuid").fetchall())
        return {u: counts.get(u, 0) for u in uuids}


def demo_peer(work: Path, *, workers: int = 2, port: int | None = None) -> DemoPeer:
    """Create (not start) the demo server in ``work``."""
    work.mkdir(parents=True, exist_ok=True)
    port = port or free_port()
    db_path = work / "server.sqlite"
    db_url = f"sqlite:///{db_path}"
    subprocess.run([sys.executable, "-m", "dakoku_server.cli", "--db", db_url, "demo", "--dir", str(work / "demo"),
                    "--port", str(port)], check=True, capture_output=True, timeout=120)
    process = ServerProcess(db_url, db_path, work / "demo" / "tls", port, work / "server.log", workers=workers)
    provisioning = Provisioning.from_text((work / "demo" / "recorder.txt").read_text("utf-8"))
    return DemoPeer(process, provisioning, json.loads((work / "demo" / "demo.json").read_text("utf-8")))
