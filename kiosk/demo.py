"""Demo master data: a handful of employees, each showing one behaviour of the kiosk.

Used by ``kiosk demo`` (until a server is configured) and by tests and benchmarks."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from kiosk.domain.credentials import card_ref
from kiosk.domain.model import AuthMethod, Credential, Department, Employee, EmploymentType, Recorder
from kiosk.domain.passwords import hash_password
from kiosk.ports import MasterData

DEMO_CARD_KEY = bytes.fromhex("6461 6b6f 6b75 2d64 656d 6f2d 6361 7264 2d6b 6579".replace(" ", ""))
DEMO_PASSWORD = "1234"
DEMO_MANAGER_PIN = "0000"   # the demo's manager password (設定); a real kiosk sets one with set-manager-pin
RECORDER = Recorder(code="R001", company_code="C001", department_code="D01")


@dataclass(frozen=True)
class DemoCard:
    card_id: str
    employee_code: str
    note: str        # what tapping it shows (a UI string key)


DEMO_CARDS = (
    DemoCard("0123456789ABCD01", "1001", "demo.card.ok"),
    DemoCard("0123456789ABCD02", "1002", "demo.card.ok"),
    DemoCard("0123456789ABCD03", "1003", "demo.card.no_break"),
    DemoCard("0123456789ABCD04", "1004", "demo.card.help"),
    DemoCard("0123456789ABCD05", "1005", "demo.card.other_department"),
    DemoCard("0123456789ABCD06", "1006", "demo.card.retired"),
    DemoCard("0123456789ABCD07", "1007", "demo.card.not_hired"),
    DemoCard("04A1B2C3D4E5F6", "1008", "demo.card.ok"),
    DemoCard("DEADBEEF", "", "demo.card.unknown"),
)


def demo_employees(today: date) -> list[Employee]:
    def emp(code, last, first, kana, dept="D01", etype="FT", **kw) -> Employee:
        return Employee(key=f"E{code}", code=code, login_id=f"user{code}", last_name=last, first_name=first,
                        kana=kana, department_code=dept, employment_type_code=etype,
                        hired_on=kw.pop("hired_on", date(2020, 4, 1)), **kw)

    pw_hash = hash_password(DEMO_PASSWORD, n=2**12)
    return [
        emp("1001", "山田", "太郎", "やまだ たろう", password_punch_allowed=True, password_hash=pw_hash),
        emp("1002", "佐藤", "花子", "さとう はなこ"),
        emp("1003", "鈴木", "一郎", "すずき いちろう", etype="PT"),
        emp("1004", "高橋", "美咲", "たかはし みさき", dept="D02"),
        emp("1005", "田中", "健", "たなか けん", dept="D02"),
        emp("1006", "伊藤", "直子", "いとう なおこ", retired_on=today - timedelta(days=30)),
        emp("1007", "渡辺", "翔", "わたなべ しょう", hired_on=today + timedelta(days=14)),
        emp("1008", "中村", "さくら", "なかむら さくら"),
    ]


def seed_demo(master: MasterData, today: date) -> None:
    """Replace the cached master data with the demo company."""
    employees = demo_employees(today)
    by_code = {e.code: e for e in employees}
    credentials = [Credential(by_code[c.employee_code].key, AuthMethod.CARD, card_ref(DEMO_CARD_KEY, c.card_id))
                   for c in DEMO_CARDS if c.employee_code]
    master.replace_all(
        employees=employees, credentials=credentials,
        departments=[Department("D01", "本社 製造部"), Department("D02", "第二工場")],
        employment_types=[EmploymentType("FT", "正社員", True), EmploymentType("PT", "アルバイト", False)],
        help_registrations=[("E1004", "D01")], recorder=RECORDER, card_key=DEMO_CARD_KEY,
    )
