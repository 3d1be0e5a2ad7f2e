"""A kiosk data directory with N cached employees, for the kiosk benchmarks (kiosk_start.py, tap_latency.py).

The ledger's master data is what a データ更新 would have left: the demo company's departments, types and
recorder, its 8 employees, plus ``employees`` more in HQ, each with a FeliCa card (raw ID ``card_id(n)``).
No server is configured (the kiosk starts offline on its cache, as after a データ更新), the reader is the
simulated one (its taps take the same UI path as a real reader's), and there is no fingerprint gallery.
"""
from __future__ import annotations

import json
import sys
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from kiosk.adapters.ledger import SqliteMasterData, open_ledger  # noqa: E402
from dakoku_core.demo import (  # noqa: E402
    DEMO_CARD_KEY, DEMO_CARDS, DEPARTMENTS, HELP_REGISTRATIONS, RECORDER, TYPES, demo_employees,
)
from dakoku_core.domain.credentials import card_ref  # noqa: E402
from dakoku_core.domain.model import AuthMethod, Credential, Department, EmploymentType  # noqa: E402


def card_id(n: int) -> str:
    """The raw card ID of generated employee ``n`` (16 hex digits, not colliding with the demo's)."""
    return f"BE{n:014X}"


def business_day() -> date:
    return datetime.now(ZoneInfo("Asia/Tokyo")).date()   # the company's day, not the machine's (UTC)


def prepare(data_dir: Path, employees: int, display: dict | None = None) -> Path:
    """Write ``data_dir``/settings.json and a ledger holding the demo company plus ``employees`` more."""
    data_dir.mkdir(parents=True, exist_ok=True)
    settings = {"reader": {"backend": "simulated"}, "fingerprint": {"backend": "none"},
                "display": display or {}}
    (data_dir / "settings.json").write_text(json.dumps(settings), "utf-8")
    demo = demo_employees(business_day())
    by_code = {e.code: e for e in demo}
    template = by_code["1001"]
    extra = [replace(template, key=f"K{n:06d}", code=f"X{n:06d}", login_id="", last_name="試験",
                     first_name=f"{n}号", kana="シケン") for n in range(employees)]
    credentials = [Credential(by_code[c.employee_code].key, AuthMethod.CARD, card_ref(DEMO_CARD_KEY, c.card_id))
                   for c in DEMO_CARDS if c.employee_code]
    credentials += [Credential(e.key, AuthMethod.CARD, card_ref(DEMO_CARD_KEY, card_id(n)))
                    for n, e in enumerate(extra)]
    db = open_ledger(data_dir / "ledger.sqlite3")
    try:
        SqliteMasterData(db).replace_all(
            employees=demo + extra, credentials=credentials,
            departments=[Department(code, name) for code, name in DEPARTMENTS],
            employment_types=[EmploymentType(code, name, breaks) for code, name, breaks in TYPES],
            help_registrations=[(by_code[code].key, dept) for code, dept in HELP_REGISTRATIONS],
            recorder=RECORDER, card_key=DEMO_CARD_KEY)
    finally:
        db.close()
    return data_dir

