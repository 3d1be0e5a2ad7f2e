"""``kiosk-server demo``: a whole demo company the demo kiosk can talk to.

Writes into the demo directory: ``tls/`` (local CA + server certificate), ``connection.txt`` (the
connection string), ``certificate.txt`` (the recorder certificate), ``recorder.txt`` (both, as an admin
would hand them over), ``cards.txt`` and ``demo.json`` (the raw demo card IDs for the simulated reader).
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from dakoku_server import admin, recorders
from dakoku_server.cli_commands import write_private
from dakoku_server.db import set_setting
from dakoku_server.private_files import close_up_dir, private_dir
from dakoku_server.tls import create_local_ca

# One demo company for the server and the kiosk's offline demo: the definitions live in dakoku_core.demo.
from dakoku_core.demo import (  # noqa: E402
    COMPANY, DEMO_PASSWORD, DEPARTMENTS, EMPLOYEES, HELP_REGISTRATIONS, ROLE_NOTES, TYPES,
)
from dakoku_core.demo import card_id, employee_dates  # noqa: E402


@dataclass
class DemoResult:
    directory: Path
    url: str
    cards: list[dict] = field(default_factory=list)

    def summary(self, db_url: str) -> str:
        lines = [f"demo company {COMPANY[0]} ready; recorder R001 at HQ.",
                 f"connection string + certificate: {self.directory / 'recorder.txt'}",
                 f"CA: {self.directory / 'tls' / 'ca.pem'}",
                 f"start the server: kiosk-server --db {db_url} serve --tls-dir {self.directory / 'tls'} "
                 f"--port {self.url.rsplit(':', 1)[1].rstrip('/')}",
                 "demo cards (tap these in the simulated reader):"]
        lines += [f"  {c['card_id']}  {c['employee_code']} {c['name']}  {c['note']}" for c in self.cards]
        return "\n".join(lines)


def _employees(comp, today: date) -> list[dict]:
    cards = []
    for n, (code, last, first, last_kana, first_kana, dept, etype, extra, role) in enumerate(EMPLOYEES, 1):
        note = ROLE_NOTES[role]
        fields = employee_dates(extra, today)
        if fields.get("password_punch_allowed"):
            fields["password"] = DEMO_PASSWORD
        row = admin.add_employee(comp, code, last, dept, etype, first_name=first, last_name_kana=last_kana,
                                 first_name_kana=first_kana, **fields)
        admin.add_card(comp, code, card_id(n))
        cards.append({"card_id": card_id(n), "employee_code": code, "employee_key": row.key,
                      "name": row.display_name, "note": note, "role": role})
    return cards


def create_demo(directory: str, *, host: str = "127.0.0.1", port: int = 8443,
                today: date | None = None) -> DemoResult:
    out = Path(directory)
    private_dir(out)
    close_up_dir(out)            # recorder.txt holds a private key, demo.json the demo password
    hosts = list(dict.fromkeys([host, "127.0.0.1", "localhost"]))
    tls = create_local_ca(out / "tls", hosts)
    set_setting("ca_pem", tls.ca_cert.read_text("ascii"))
    url = f"https://{host}:{port}/"
    set_setting("public_url", url)
    comp = admin.add_company(*COMPANY)
    for code, name in DEPARTMENTS:
        admin.add_department(comp, code, name)
    for code, name, breaks in TYPES:
        admin.add_employment_type(comp, code, name, breaks)
    # the company's business day, not the machine's (UTC) date: hire and retirement dates are company days
    cards = _employees(comp, today or datetime.now(ZoneInfo(comp.timezone)).date())
    for code, dept in HELP_REGISTRATIONS:
        admin.add_help(comp, code, dept)
    prov = recorders.add_recorder(comp, "R001", "HQ", device="card", name="本社 1F", server_url=url)
    write_private(str(out / "connection.txt"), prov.connection_string + "\n")
    write_private(str(out / "certificate.txt"), prov.certificate)
    write_private(str(out / "recorder.txt"), prov.text())
    write_private(str(out / "cards.txt"), "".join(f"{c['card_id']}\t{c['employee_code']}\t{c['name']}\t{c['note']}\n"
                                                  for c in cards))
    write_private(str(out / "demo.json"), json.dumps({"url": url, "company": COMPANY[0], "recorder": "R001",
                                                      "password": DEMO_PASSWORD, "cards": cards},
                                                     ensure_ascii=False, indent=2))
    return DemoResult(out, url, cards)
