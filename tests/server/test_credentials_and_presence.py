"""設定 › 認証情報 and 出勤状況 on the real server over TLS: an employee's cards and fingers are listed and a card
deleted by the listed reference, only within the recorder's scope (own department + help-registered); the
presence answer is today's last punch per employee of the scope, today being the company's day."""
from __future__ import annotations

import secrets
import uuid
from datetime import datetime, timedelta, timezone

import pytest

from dakoku_server import admin, recorders
from dakoku_server.db import FingerprintTemplate

H6_MIN = timedelta(minutes=1)


def new_ref() -> str:
    return secrets.token_urlsafe(24)


def credentials(client, key: str):
    return client.request("GET", f"v1/employees/{key}/credentials")


def delete_card(client, key: str, ref: str):
    return client.request("DELETE", f"v1/employees/{key}/credentials/card/{ref}")


def error_of(response) -> tuple[int, str, str | None]:
    error = response.json()["error"]
    return response.status_code, error["key"], error.get("cause_letter")


def test_a_card_is_listed_with_its_date_and_recorder_and_deleted_by_its_reference(client, employees):
    key, ref = employees["1001"]["key"], new_ref()
    before = datetime.now(timezone.utc).replace(microsecond=0)
    assert client.register_credential(key, "card", ref).status_code == 201
    listed = credentials(client, key)
    assert listed.status_code == 200
    card = next(c for c in listed.json()["cards"] if c["ref"] == ref)
    assert card["recorder_code"] == "R001"
    registered = datetime.fromisoformat(card["registered_at"].replace("Z", "+00:00"))
    assert before - H6_MIN <= registered <= datetime.now(timezone.utc) + H6_MIN
    version = client.master_data().json()["version"]
    assert delete_card(client, key, ref).json()["deleted"] is True
    assert ref not in {c["ref"] for c in credentials(client, key).json()["cards"]}
    changes = client.master_data(since=version).json()
    assert {"kind": "credential", "key": f"card:{ref}"}.items() <= next(
        t for t in changes["deleted"] if t["key"].endswith(ref)).items()
    assert delete_card(client, key, ref).json()["deleted"] is False      # idempotent


def test_a_stale_list_never_deletes_another_employees_card(client, employees):
    owner, other, ref = employees["1001"]["key"], employees["1002"]["key"], new_ref()
    client.register_credential(owner, "card", ref)
    assert delete_card(client, other, ref).json()["deleted"] is False
    assert ref in {c["ref"] for c in credentials(client, owner).json()["cards"]}
    assert delete_card(client, owner, ref).json()["deleted"] is True


def test_a_store_recorder_can_neither_list_nor_delete_hq_credentials(client, client_at, employees):
    hq_key, ref = employees["1001"]["key"], new_ref()
    client.register_credential(hq_key, "card", ref)
    store = client_at("STORE")
    assert error_of(credentials(store, hq_key)) == (403, "auth_failed", "C")
    assert error_of(delete_card(store, hq_key, ref)) == (403, "auth_failed", "C")
    assert ref in {c["ref"] for c in credentials(client, hq_key).json()["cards"]}
    unknown = credentials(client, "no-such-employee")
    assert error_of(unknown)[:2] == (404, "employee_not_found")
    assert delete_card(client, hq_key, "bad ref!").status_code in (400, 404)
    delete_card(client, hq_key, ref)


def test_a_help_registered_employee_is_in_scope_and_fingers_are_listed(client, client_at, employees):
    hq = employees["1002"]
    store = client_at("STORE")
    emp = admin.Employee.get(admin.Employee.key == hq["key"])
    assert credentials(store, hq["key"]).status_code == 403
    store.register_help(hq["key"])
    try:
        FingerprintTemplate.create(company=emp.company_id, employee=emp, finger=3, seq=0, sealed=b"x",
                                   sealed_code=b"y", version=0)
        answer = credentials(store, hq["key"]).json()
        assert [f["finger"] for f in answer["fingers"]] == [3]
        assert answer["fingers"][0]["registered_at"].endswith("Z")
    finally:
        FingerprintTemplate.delete().where((FingerprintTemplate.employee == emp)
                                           & (FingerprintTemplate.finger == 3)).execute()
        store.request("DELETE", f"v1/help-registrations/{hq['key']}/STORE")


# -- 出勤状況 --------------------------------------------------------------------------------------------
def midday_zone() -> str:
    """A fixed-offset zone where it is about noon now, so "today" has room before and after at any hour
    the tests run (the company's day, never the machine's UTC date)."""
    offset = (12 - datetime.now(timezone.utc).hour) % 24
    offset = offset - 24 if offset > 14 else offset
    return f"Etc/GMT{-offset:+d}" if offset else "Etc/GMT"


@pytest.fixture(scope="module")
def presence_company(server):
    comp = admin.add_company("PRES", "出勤状況株式会社", timezone=midday_zone())
    for code, name in (("HQ", "本社"), ("STORE", "店舗")):
        admin.add_department(comp, code, name)
    admin.add_employment_type(comp, "FULL", "正社員")
    people = {code: admin.add_employee(comp, code, name, dept, "FULL").key
              for code, name, dept in (("1", "青木", "HQ"), ("2", "井上", "HQ"), ("3", "上田", "STORE"),
                                       ("4", "江藤", "HQ"))}
    hq = server.client(recorders.add_recorder(comp, "P1", "HQ", server_url=server.url).text())
    store = server.client(recorders.add_recorder(comp, "P2", "STORE", server_url=server.url).text())
    return comp, people, hq, store


def upload(client, key: str, kind: str, at: datetime) -> str:
    body = {"uuid": str(uuid.uuid4()), "employee_key": key, "kind": kind, "stamped_at": at.isoformat(),
            "time_source": "server", "offline": False, "auth_method": "card"}
    return client.upload_punches([body]).json()["results"][0]["status"]


def test_presence_is_todays_last_punch_per_employee_of_the_scope(presence_company):
    _comp, people, hq, store = presence_company
    now = datetime.now(timezone.utc)
    assert upload(hq, people["1"], "clock_in", now - timedelta(hours=3)) == "accepted"
    assert upload(hq, people["1"], "break_start", now - timedelta(hours=1)) == "accepted"
    assert upload(hq, people["2"], "clock_in", now - timedelta(hours=2)) == "accepted"
    assert upload(hq, people["2"], "clock_out", now - timedelta(minutes=30)) == "accepted"
    assert upload(store, people["3"], "clock_in", now - timedelta(hours=2)) == "accepted"
    assert upload(hq, people["4"], "clock_in", now - timedelta(hours=20)) == "accepted"   # yesterday there
    answer = hq.request("GET", "v1/presence").json()
    seen = {e["employee_key"]: e for e in answer["employees"]}
    assert set(seen) == {people["1"], people["2"]}           # not STORE's, not yesterday's
    assert seen[people["1"]]["kind"] == "break_start"
    assert seen[people["2"]]["kind"] == "clock_out"
    first_in = datetime.fromisoformat(seen[people["1"]]["clock_in_at"])
    assert abs(first_in - (now - timedelta(hours=3))) < timedelta(seconds=2)
    day_start = datetime.fromisoformat(answer["day_start"])
    assert answer["business_day"] == now.astimezone(day_start.tzinfo).date().isoformat()
    assert (day_start.hour, day_start.minute) == (0, 0) and day_start <= now < day_start + timedelta(days=1)
    # STORE sees its own employee; once 上田 is help-registered at HQ, HQ sees them too
    assert {e["employee_key"] for e in store.request("GET", "v1/presence").json()["employees"]} == {people["3"]}
    hq.register_help(people["3"])
    assert people["3"] in {e["employee_key"] for e in hq.request("GET", "v1/presence").json()["employees"]}
