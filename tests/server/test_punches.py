"""Punch upload: idempotent by UUID, every rule re-checked at the punch's stamped time."""
from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta, timezone

import pytest

from dakoku_server.db import Punch

pytestmark = pytest.mark.timeout(60)
JST = timezone(timedelta(hours=9))


def punch(employee: dict, at: str, kind: str = "clock_in", method: str = "card", **extra) -> dict:
    return {"uuid": str(uuid.uuid4()), "employee_key": employee["key"], "kind": kind, "stamped_at": at,
            "time_source": "ntp", "offline": False, "auth_method": method, **extra}


def upload(client, *punches: dict) -> list[dict]:
    response = client.upload_punches(list(punches))
    assert response.status_code == 200, response.text
    return response.json()["results"]


def test_same_uuid_twice_is_stored_once(client, employees, stamp):
    p = punch(employees["1001"], stamp(2), offline=True)
    assert upload(client, p)[0]["status"] == "accepted"
    again = upload(client, p)[0]
    assert (again["status"], again["recorded_status"]) == ("duplicate", "accepted")
    assert Punch.select().where(Punch.uuid == p["uuid"]).count() == 1


def test_same_uuid_twice_in_one_batch(client, employees, stamp):
    p = punch(employees["1003"], stamp(3))
    first, second = upload(client, p, p)
    assert (first["status"], second["status"]) == ("accepted", "duplicate")
    assert Punch.select().where(Punch.uuid == p["uuid"]).count() == 1


@pytest.mark.parametrize("code, kind, method, key, letter", [
    ("1004", "break_start", "card", "break_not_allowed", None),
    ("1001", "clock_in", "password", "password_punch_not_allowed", None),
    ("1006", "clock_in", "card", "auth_failed", "C"),          # STORE employee at the HQ recorder
    ("1007", "clock_in", "card", "after_retirement", None),
    ("1008", "clock_in", "card", "before_hire_date", None),
])
def test_rules_reject(client, employees, code, kind, method, key, letter, stamp):
    # a minute ago, not a fixed hour of today: 08:00 today is still ahead of the clock before 08:00 JST, and the
    # server then refuses it as stamped in the future before any of these rules is asked
    just_now = (datetime.now(JST) - timedelta(minutes=1)).replace(microsecond=0).isoformat()
    result = upload(client, punch(employees[code], just_now, kind, method))[0]
    assert result["status"] == "rejected"
    assert (result["error"]["key"], result["error"]["cause_letter"]) == (key, letter)


def test_allowed_variants_are_accepted(client, employees, stamp):
    results = upload(client,
                     punch(employees["1002"], stamp(4), method="password"),      # password punching allowed
                     punch(employees["1005"], stamp(4)),                          # help-registered to HQ
                     punch(employees["1003"], stamp(4, 12), "break_start"))       # PART may punch breaks
    assert [r["status"] for r in results] == ["accepted"] * 3


def test_stamped_time_not_server_time_decides(client, employees):
    """The retired employee's punch from before the retirement date is accepted when it arrives now."""
    retired = date.fromisoformat(employees["1007"]["retired_on"])
    before = datetime(retired.year, retired.month, retired.day, 18, 0, tzinfo=JST) - timedelta(days=1)
    result = upload(client, punch(employees["1007"], before.isoformat(), "clock_out", offline=True))[0]
    assert result["status"] == "accepted"


def test_reauthentication_interval(client, employees, stamp):
    first = punch(employees["1001"], stamp(5, 9, 0))
    again = punch(employees["1001"], stamp(5, 9, 0, 30))
    later = punch(employees["1001"], stamp(5, 9, 5), "break_start")
    results = upload(client, first, again, later)
    assert [r["status"] for r in results] == ["accepted", "rejected", "accepted"]
    assert results[1]["error"]["key"] == "already_punched"
    assert results[1]["error"]["context"]["name"] == "山田 太郎"


def test_rejected_punch_is_kept_and_answers_the_same(client, employees, stamp):
    p = punch(employees["1004"], stamp(6), "break_end")
    assert upload(client, p)[0]["error"]["key"] == "break_not_allowed"
    again = upload(client, p)[0]
    assert (again["status"], again["recorded_status"], again["error"]["key"]) == \
        ("duplicate", "rejected", "break_not_allowed")
    assert Punch.get(Punch.uuid == p["uuid"]).status == "rejected"


def test_unknown_employee_and_malformed_items(client, employees, stamp):
    ghost = punch({"key": "no-such-key"}, stamp(7))
    naive = punch(employees["1001"], "2025-01-01T09:00:00")
    bad_kind = {**punch(employees["1001"], stamp(7)), "kind": "lunch"}
    results = upload(client, ghost, naive, bad_kind)
    assert [r["status"] for r in results] == ["rejected"] * 3
    assert [r["error"]["key"] for r in results] == ["employee_not_found", "unexpected", "unexpected"]


def test_malformed_batch_is_a_json_400(client):
    response = client.request("POST", "v1/punches", json={"punches": "nope"})
    assert response.status_code == 400
    assert response.json()["error"]["key"] == "unexpected"
    response = client.request("POST", "v1/punches", data=b"{not json", headers={"Content-Type": "application/json"})
    assert (response.status_code, response.json()["error"]["reason"]) == (400, "invalid_json")


def test_concurrent_uploads_of_one_batch_store_each_punch_once(server, client, employees, stamp):
    from concurrent.futures import ThreadPoolExecutor
    batch = [punch(employees["1003"], stamp(20 + i)) for i in range(10)]
    clients = [server.client((server.demo.directory / "recorder.txt").read_text("utf-8")) for _ in range(4)]
    with ThreadPoolExecutor(max_workers=4) as pool:
        answers = list(pool.map(lambda c: c.upload_punches(batch).json()["results"], clients))
    statuses = [r["status"] for results in answers for r in results]
    assert statuses.count("accepted") == len(batch)
    assert statuses.count("duplicate") == 3 * len(batch)
    assert Punch.select().where(Punch.uuid.in_([p["uuid"] for p in batch])).count() == len(batch)
