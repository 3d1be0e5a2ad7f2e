"""The server re-checks punches with the kiosk's own rules (issue 13): for employees covering every rule (hire
and retirement dates, department and help registration, password and break permission, the re-authentication
interval), each punch's verdict from the server equals dakoku_core.domain.rules.check_punch's, given what a kiosk
would know from its master data. Both of the server's paths are compared: the batch (POST /v1/punches, over
TLS) and the punch-by-punch one it falls back to after a unique-constraint race (dakoku_server.punch_single)."""
from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta, timezone

import pytest

from dakoku_core.domain.model import AuthMethod, ClockReading, Employee, EmploymentType, PunchKind, TimeSource
from dakoku_core.domain.rules import PunchContext, check_punch
from dakoku_core.errors import KioskError
from dakoku_server import admin
from dakoku_server.db import Recorder
from dakoku_server.punch_judging import Receipt
from dakoku_server.punch_single import judge_one

pytestmark = pytest.mark.timeout(120)
JST = timezone(timedelta(hours=9))
DAYS_AGO = 83                      # no other test stamps this day (tests/server/conftest.py's ``stamp``)
SEQUENCE = [                       # (time of day, kind, method): pairs closer than the 60 s interval
    ("10:00:00", "clock_in", "card"), ("10:00:30", "break_start", "card"), ("10:00:59", "break_end", "password"),
    ("12:00:00", "break_start", "card"), ("12:00:40", "clock_out", "password"), ("18:00:00", "clock_out", "card"),
]


def _profiles(day: date) -> dict[str, dict]:
    """Employee fields by profile: each breaks (or passes) a different rule."""
    return {
        "ordinary": {}, "short_no_breaks": {"employment_type": "SHORT"},
        "password_allowed": {"password_punch_allowed": True, "password": "1234"},
        "other_department": {"department": "STORE"}, "helping_here": {"department": "STORE", "help": "HQ"},
        "hired_next_day": {"hired_on": day + timedelta(days=1)},      # inside the server's range: the rule says
        "hired_later": {"hired_on": day + timedelta(days=DAYS_AGO + 10)},
        "retired_day_before": {"retired_on": day - timedelta(days=1)},
        "retired_that_day": {"retired_on": day},
    }


def _add_employees(day: date) -> dict[str, object]:
    comp = admin.company("DEMO")
    made = {}
    for name, fields in _profiles(day).items():
        fields = dict(fields)
        department, kind, help_to = (fields.pop("department", "HQ"), fields.pop("employment_type", "FULL"),
                                     fields.pop("help", None))
        code = f"R{uuid.uuid4().hex[:9]}"
        made[name] = admin.add_employee(comp, code, "規則", department, kind, first_name=name, **fields)
        if help_to:
            admin.add_help(comp, code, help_to)
    return made


def _as_kiosk_knows(master: dict, key: str) -> tuple[Employee, EmploymentType | None, frozenset[str]]:
    """The employee, employment type and help departments from the recorder's master data (what a kiosk has)."""
    row = next(e for e in master["employees"] if e["key"] == key)
    person = Employee(key=row["key"], code=row["code"], last_name=row["last_name"], first_name=row["first_name"],
                      department_code=row["department_code"], employment_type_code=row["employment_type_code"],
                      hired_on=date.fromisoformat(row["hired_on"]) if row["hired_on"] else None,
                      retired_on=date.fromisoformat(row["retired_on"]) if row["retired_on"] else None,
                      password_punch_allowed=row["password_punch_allowed"])
    kind = next((EmploymentType(t["code"], t["name"], t["break_punch_allowed"])
                 for t in master["employment_types"] if t["code"] == person.employment_type_code), None)
    helps = frozenset(h["department_code"] for h in master["help_registrations"] if h["employee_key"] == key)
    return person, kind, helps


def _kiosk_verdicts(master: dict, key: str, items: list[dict]) -> list[tuple]:
    """check_punch's verdict on each item, in order, each seeing the ones it accepted before."""
    person, kind, helps = _as_kiosk_knows(master, key)
    interval = timedelta(seconds=master["recorder"]["settings"]["reauth_interval_seconds"])
    last, verdicts = None, []
    for item in items:
        at = datetime.fromisoformat(item["stamped_at"])
        try:
            check_punch(person, PunchContext(
                kind=PunchKind(item["kind"]), method=AuthMethod(item["auth_method"]),
                clock=ClockReading(at=at, source=TimeSource.NTP), recorder_department=master["recorder"]
                ["department_code"], employment_type=kind, help_departments=helps, last_punch_at=last,
                reauth_interval=interval))
        except KioskError as error:
            verdicts.append(("rejected", error.key, error.cause_letter))
            continue
        last = at
        verdicts.append(("accepted", None, None))
    return verdicts


def _server_verdict(result: dict) -> tuple:
    error = result.get("error") or {}
    return result["status"], error.get("key"), error.get("cause_letter")


def _items(key: str, day: date) -> list[dict]:
    return [{"uuid": str(uuid.uuid4()), "employee_key": key, "kind": kind, "auth_method": method,
             "stamped_at": f"{day.isoformat()}T{clock}+09:00", "time_source": "ntp", "offline": False}
            for clock, kind, method in SEQUENCE]


def _compare(client, judge) -> set:
    """Each profile's items judged by the server (``judge``) and by the rules; every verdict seen."""
    day = datetime.now(JST).date() - timedelta(days=DAYS_AGO)
    made = _add_employees(day)
    master = client.master_data().json()
    seen = set()
    for name, emp in made.items():
        items = _items(emp.key, day)
        expected = _kiosk_verdicts(master, emp.key, items)
        assert [_server_verdict(r) for r in judge(items)] == expected, name
        seen |= set(expected)
    return seen


EVERY_RULE = {("accepted", None, None), ("rejected", "already_punched", None),
              ("rejected", "break_not_allowed", None), ("rejected", "password_punch_not_allowed", None),
              ("rejected", "auth_failed", "C"), ("rejected", "before_hire_date", None),
              ("rejected", "after_retirement", None)}


def test_the_batch_path_judges_as_the_kiosks_rules(client):
    def judge(items):
        response = client.upload_punches(items)
        assert response.status_code == 200, response.text
        return response.json()["results"]

    assert _compare(client, judge) == EVERY_RULE          # every rule was really exercised


def test_the_punch_by_punch_path_judges_as_the_kiosks_rules(client):
    comp = admin.company("DEMO")
    code = client.master_data().json()["recorder"]["code"]
    recorder = Recorder.get((Recorder.company == comp) & (Recorder.code == code))
    receipt = Receipt.now()

    def judge(items):
        return [judge_one(comp, recorder, item, JST, receipt) for item in items]

    assert _compare(client, judge) == EVERY_RULE
