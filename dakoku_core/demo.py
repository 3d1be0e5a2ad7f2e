"""The demo company: one definition for the reference server's demo (``kiosk-server demo``) and the
kiosk's offline demo, so the demo panel's cards mean the same thing in both.

Each card has a *role*: what tapping it shows (a normal punch, no break punching, another department...).
Tests and the demo panel refer to roles, not to employee codes."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Protocol

from dakoku_core.domain.credentials import card_ref
from dakoku_core.domain.model import AuthMethod, Credential, Department, Employee, EmploymentType, Recorder
from dakoku_core.domain.passwords import hash_password

COMPANY = ("DEMO", "デモ株式会社")
DEPARTMENTS = [("HQ", "本社"), ("STORE", "店舗"), ("WAREHOUSE", "倉庫")]
TYPES = [("FULL", "正社員", True), ("PART", "パート", True), ("SHORT", "短時間勤務(休憩打刻なし)", False)]
DEMO_PASSWORD = "1234"
DEMO_MANAGER_PIN = "0000"   # the demo's manager password (設定); a real kiosk sets one with set-manager-pin
RECORDER = Recorder(code="R001", company_code="DEMO", department_code="HQ")
HELP_REGISTRATIONS = [("1005", "HQ")]

# code, last, first, last kana, first kana, department, type, extra fields, role (what tapping shows)
EMPLOYEES = [
    ("1001", "山田", "太郎", "ヤマダ", "タロウ", "HQ", "FULL", {}, "normal"),
    ("1002", "佐藤", "花子", "サトウ", "ハナコ", "HQ", "FULL", {"password_punch_allowed": True, "login_id": "sato"},
     "password"),
    ("1003", "鈴木", "一郎", "スズキ", "イチロウ", "HQ", "PART", {}, "normal"),
    ("1004", "高橋", "美咲", "タカハシ", "ミサキ", "HQ", "SHORT", {}, "no_break"),
    ("1005", "田中", "健", "タナカ", "ケン", "STORE", "FULL", {}, "help"),
    ("1006", "伊藤", "さくら", "イトウ", "サクラ", "STORE", "PART", {}, "other_department"),
    ("1007", "渡辺", "誠", "ワタナベ", "マコト", "HQ", "FULL", {"retired_on": "RETIRED"}, "retired"),
    ("1008", "中村", "陽菜", "ナカムラ", "ヒナ", "HQ", "FULL", {"hired_on": "FUTURE"}, "not_hired"),
]
ROLE_NOTES = {   # English notes for the server's cards.txt; the kiosk shows demo.card.<role> from strings.json
    "normal": "", "password": f"password punching allowed (password {DEMO_PASSWORD})",
    "no_break": "break punching not allowed", "help": "help-registered to HQ",
    "other_department": "other department: refused at HQ (認証に失敗しました C)",
    "retired": "retired last month", "not_hired": "hire date next month", "unknown": "not registered",
}


def card_id(n: int) -> str:
    """Demo raw card IDs: 0123456789ABCDE1, 0123456789ABCDE2, ..."""
    return f"0123456789ABCDE{n:X}"


@dataclass(frozen=True)
class DemoCard:
    card_id: str
    employee_code: str   # "" for the unregistered card
    role: str


DEMO_CARDS = tuple(DemoCard(card_id(n), row[0], row[8]) for n, row in enumerate(EMPLOYEES, 1)) + (
    DemoCard("DEADBEEF", "", "unknown"),)
DEMO_CARD_KEY = bytes.fromhex("64616b6f6b752d64656d6f2d636172642d6b6579")   # offline demo only


def demo_card(role: str, index: int = 0) -> DemoCard:
    """The ``index``-th demo card with ``role`` (e.g. ``demo_card("normal", 1)`` is the second normal one)."""
    return [c for c in DEMO_CARDS if c.role == role][index]


def employee_dates(extra: dict, today: date) -> dict:
    """The hire/retirement dates of a demo row, relative to ``today`` so the demo never goes stale."""
    fields = dict(extra)
    if fields.get("retired_on") == "RETIRED":
        fields["retired_on"] = today.replace(day=1) - timedelta(days=1)
    if fields.get("hired_on") == "FUTURE":
        fields["hired_on"] = today + timedelta(days=31)
    fields.setdefault("hired_on", date(2020, 4, 1))
    return fields


def demo_employees(today: date) -> list[Employee]:
    pw_hash = hash_password(DEMO_PASSWORD, n=2**12)
    employees = []
    for code, last, first, last_kana, first_kana, dept, etype, extra, _role in EMPLOYEES:
        fields = employee_dates(extra, today)
        allowed = fields.pop("password_punch_allowed", False)
        employees.append(Employee(
            key=f"E{code}", code=code, login_id=fields.pop("login_id", ""), last_name=last, first_name=first,
            kana=f"{last_kana} {first_kana}", department_code=dept, employment_type_code=etype,
            password_punch_allowed=allowed, password_hash=pw_hash if allowed else "", **fields))
    return employees


class MasterDataSink(Protocol):
    """Where :func:`seed_demo` puts the demo company (the kiosk's master data port)."""

    def replace_all(self, **tables) -> None: ...


def seed_demo(master: MasterDataSink, today: date, recorder_settings: dict | None = None) -> None:
    """Replace the cached master data with the demo company (the offline demo, tests, benchmarks).
    ``recorder_settings``: as a server would send them (None: keep those held; a fresh kiosk has the shared
    defaults of dakoku_core.protocol.recorder_settings)."""
    employees = demo_employees(today)
    by_code = {e.code: e for e in employees}
    credentials = [Credential(by_code[c.employee_code].key, AuthMethod.CARD, card_ref(DEMO_CARD_KEY, c.card_id))
                   for c in DEMO_CARDS if c.employee_code]
    master.replace_all(
        employees=employees, credentials=credentials,
        departments=[Department(code, name) for code, name in DEPARTMENTS],
        employment_types=[EmploymentType(code, name, breaks) for code, name, breaks in TYPES],
        help_registrations=[(by_code[code].key, dept) for code, dept in HELP_REGISTRATIONS],
        recorder=RECORDER, card_key=DEMO_CARD_KEY, recorder_settings=recorder_settings,
    )
