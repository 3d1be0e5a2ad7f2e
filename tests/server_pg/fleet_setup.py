"""A server for the kiosk fleet load test (benchmarks/server_load.py, tests/server_pg/test_server_load.py).

``provision`` fills the database at ``db_url`` the way an operator would: ``init`` and ``tls init`` through the
admin CLI (one process each), then companies, a department per kiosk, its employees and the recorders through the
admin API (dakoku_server.admin / recorders: each recorder gets its own Ed25519 key and provisioning text).
``fleet_server`` runs ``kiosk-server serve`` (gunicorn, TLS on loopback, N workers) on it
(tests/support/server_process.py).
"""
from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from dakoku_server import admin, recorders
from dakoku_server.db import create_tables, open_database
from tests.support.server_process import ServerProcess

READY_DEADLINE = 60.0


@dataclass(frozen=True)
class KioskPlan:
    """One simulated kiosk: its provisioning text (connection string + certificate) and its employees."""
    company: str
    recorder: str
    provisioning_text: str
    employee_keys: tuple[str, ...]


@dataclass(frozen=True)
class FleetShape:
    kiosks: int = 200
    companies: int = 10
    employees_per_kiosk: int = 10


def cli(db_url: str, *args: str, keys_dir: str = "") -> str:
    keys = ["--template-keys", keys_dir] if keys_dir else []
    done = subprocess.run([sys.executable, "-m", "dakoku_server.cli", "--db", db_url, *keys, *args],
                          capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        raise RuntimeError(f"kiosk-server {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def provision(db_url: str, work: Path, port: int, shape: FleetShape) -> list[KioskPlan]:
    """Companies LOAD00.., each with its share of the kiosks; one department per kiosk with its employees
    (hired a year before the company's today, so any recent stamp is inside their range)."""
    url = f"https://127.0.0.1:{port}/"
    cli(db_url, "init", "--url", url)
    cli(db_url, "tls", "init", "--dir", str(work / "tls"), "--host", "127.0.0.1")
    open_database(db_url)
    create_tables()
    plans = []
    for c in range(shape.companies):
        comp = admin.add_company(f"LOAD{c:02d}", f"負荷試験{c:02d}")
        admin.add_employment_type(comp, "FULL", "正社員")
        hired = (datetime.now(ZoneInfo(comp.timezone)) - timedelta(days=365)).date()
        for k in range(c, shape.kiosks, shape.companies):
            dept = f"D{k:03d}"
            admin.add_department(comp, dept, f"店舗{k:03d}")
            keys = tuple(admin.add_employee(comp, f"E{k:03d}{e:02d}", f"従業員{k:03d}", dept, "FULL",
                                            hired_on=hired).key
                         for e in range(shape.employees_per_kiosk))
            prov = recorders.add_recorder(comp, f"R{k:03d}", dept, server_url=url)
            plans.append(KioskPlan(comp.code, f"R{k:03d}", prov.text(), keys))
    return plans


def fleet_server(db_url: str, work: Path, port: int, *, workers: int = 4, threads: int = 4) -> ServerProcess:
    """``kiosk-server serve`` on the fleet's database, with the TLS files and template keys ``provision`` made in
    ``work`` (not started)."""
    return ServerProcess(db_url, None, work / "tls", port, work / "server.log", workers=workers, threads=threads,
                         template_keys=str(work / "template-keys"), ready_deadline=READY_DEADLINE, ready_pause=0.2,
                         stop_timeout=30.0)
