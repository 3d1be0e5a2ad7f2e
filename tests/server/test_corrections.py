"""取り消し on the server (issue 12): correction items of POST /v1/punches, idempotent by UUID, valid only for a
punch of the same recorder, employee and company within the undo window; the punch then counts as not made (the
re-authentication rule, the timecard's day's times) and the timecard strikes it through. Run on PostgreSQL too
(tests/server_pg/test_corrections_pg.py)."""
from __future__ import annotations

import re
import uuid
from datetime import datetime, timedelta, timezone

import pytest
import requests

from dakoku_server import admin, recorders
from dakoku_server.db import Correction, Punch
from tests.server.test_credentials_and_presence import midday_zone

pytestmark = pytest.mark.timeout(60)


def punch(employee: dict, at: str, kind: str = "clock_in") -> dict:
    return {"uuid": str(uuid.uuid4()), "employee_key": employee["key"], "kind": kind, "stamped_at": at,
            "time_source": "ntp", "offline": False, "auth_method": "card"}


def correction(of: dict, after_seconds: float = 3, **extra) -> dict:
    at = datetime.fromisoformat(of["stamped_at"]) + timedelta(seconds=after_seconds)
    return {"uuid": str(uuid.uuid4()), "kind": "cancel", "cancels": of["uuid"], "employee_key": of["employee_key"],
            "stamped_at": at.isoformat(), "time_source": "ntp", "offline": False, **extra}


def upload(client, *items: dict) -> list[dict]:
    response = client.upload_punches(list(items))
    assert response.status_code == 200, response.text
    return response.json()["results"]


def refusal(result: dict) -> tuple:
    return result["status"], result["error"]["key"], result["error"]["cause_letter"], result["error"]["reason"]


def timecard(server, client, employee: dict, at: str) -> str:
    url = client.timecard_url(employee["key"]).json()["url"]
    month = datetime.fromisoformat(at).strftime("%Y-%m")
    return requests.get(url, params={"month": month}, verify=server.ca_file, timeout=10).text


def day_times(page: str, at: str) -> tuple[str, str]:
    """(出勤, 退勤) of the date of ``at`` in the timecard's day's times table."""
    days = page.split('class="days"', 1)[1]
    match = re.search(rf"<tr><td>{datetime.fromisoformat(at):%Y-%m-%d}</td><td>([^<]*)</td><td>([^<]*)</td>", days)
    assert match, days
    return match.group(1), match.group(2)


def test_a_correction_cancels_its_punch_which_then_counts_as_not_made(server, client, employees, stamp):
    wrong = punch(employees["1001"], stamp(60, 8, 59, 50))
    undo = correction(wrong, 4)
    right = punch(employees["1001"], stamp(60, 9, 0, 5))     # 15 s later: inside the re-authentication interval
    assert [r["status"] for r in upload(client, wrong, undo, right)] == ["accepted"] * 3
    assert Punch.get(Punch.uuid == wrong["uuid"]).status == "accepted"      # the punch's row is not changed
    stored = Correction.get(Correction.uuid == undo["uuid"])
    assert (stored.cancels, stored.status) == (wrong["uuid"], "accepted")
    page = timecard(server, client, employees["1001"], wrong["stamped_at"])
    assert "<s>出勤</s> 取消" in page and "<s>08:59</s>" in page
    assert day_times(page, wrong["stamped_at"]) == ("09:00", "")   # the right punch is the day's 出勤


def test_the_correction_in_a_later_batch_frees_the_interval_for_the_next_punch(client, employees, stamp):
    wrong = punch(employees["1003"], stamp(61, 12, 0, 0), "break_start")
    assert upload(client, wrong)[0]["status"] == "accepted"
    early = punch(employees["1003"], stamp(61, 12, 0, 10), "clock_out")
    assert refusal(upload(client, early)[0])[1] == "already_punched"         # the punch counts until cancelled
    assert upload(client, correction(wrong, 2))[0]["status"] == "accepted"
    assert upload(client, punch(employees["1003"], stamp(61, 12, 0, 15), "clock_out"))[0]["status"] == "accepted"


def test_corrections_are_idempotent_by_uuid(client, employees, stamp):
    wrong = punch(employees["1002"], stamp(62, 9))
    undo = correction(wrong)
    assert [r["status"] for r in upload(client, wrong, undo)] == ["accepted", "accepted"]
    again = upload(client, wrong, undo)                                          # the answer was lost: re-sent
    assert [(r["status"], r["recorded_status"]) for r in again] == [("duplicate", "accepted")] * 2
    assert Correction.select().where(Correction.uuid == undo["uuid"]).count() == 1
    other = upload(client, correction(wrong, 5))[0]                              # a second one, another UUID
    assert refusal(other) == ("rejected", "correction_refused", "A", "already_cancelled")


def test_refused_corrections_say_why(client, client_at, employees, stamp):
    mine = punch(employees["1001"], stamp(63, 9))
    assert upload(client, mine)[0]["status"] == "accepted"
    late = upload(client, correction(mine, 60))[0]
    assert refusal(late) == ("rejected", "correction_refused", "B", "outside_undo_window")
    unknown = correction(punch(employees["1001"], stamp(63, 10)))
    assert refusal(upload(client, unknown)[0]) == ("rejected", "correction_refused", "A", "punch_not_found")
    someone_else = correction(mine, 2, employee_key=employees["1002"]["key"])
    assert refusal(upload(client, someone_else)[0])[2:] == ("A", "punch_of_another")
    other_recorder = upload(client_at("HQ"), correction(mine, 2))[0]
    assert refusal(other_recorder)[2:] == ("A", "punch_of_another")
    malformed = upload(client, {**correction(mine, 2), "cancels": "not-a-uuid"})[0]
    assert malformed["status"] == "rejected" and malformed["error"]["reason"].startswith("invalid_correction")
    assert upload(client, correction(mine, 3))[0]["status"] == "accepted"      # the refusals changed nothing


def test_a_correction_before_its_punch_is_refused_and_the_punch_still_counts(server, client, employees, stamp):
    """The choice (dakoku_server.api_corrections): refused at once, never kept to apply later; a kiosk never
    sends one before its punch (its outbox goes in the order entries were made)."""
    later = punch(employees["1002"], stamp(64, 18), "clock_out")
    undo = correction(later)
    first, second = upload(client, undo, later)
    assert refusal(first) == ("rejected", "correction_refused", "A", "punch_not_found")
    assert second["status"] == "accepted"
    again = upload(client, undo)[0]                                              # kept as refused: same answer
    assert (again["status"], again["recorded_status"], again["error"]["key"]) == (
        "duplicate", "rejected", "correction_refused")
    page = timecard(server, client, employees["1002"], later["stamped_at"])
    assert day_times(page, later["stamped_at"]) == ("", "18:00")
    assert "要確認" in page and "打刻を取り消せませんでした" in page              # the refused correction is shown


def test_presence_leaves_out_a_cancelled_punch(server):
    """出勤状況 (GET /v1/presence): someone whose only punch today was cancelled is not 出勤中."""
    comp = admin.add_company("UNDOCO", "取消株式会社", timezone=midday_zone())   # about noon there: a whole day
    admin.add_department(comp, "HQ", "本社")
    admin.add_employment_type(comp, "FULL", "正社員")
    people = {code: {"key": admin.add_employee(comp, code, name, "HQ", "FULL").key} for code, name in
              (("1", "青木"), ("2", "井上"))}
    client = server.client(recorders.add_recorder(comp, "U1", "HQ", server_url=server.url).text())
    an_hour_ago = (datetime.now(timezone.utc) - timedelta(hours=1)).replace(microsecond=0).isoformat()
    wrong, kept = punch(people["1"], an_hour_ago), punch(people["2"], an_hour_ago)
    assert [r["status"] for r in upload(client, wrong, kept, correction(wrong))] == ["accepted"] * 3
    present = {e["employee_key"] for e in client.request("GET", "v1/presence").json()["employees"]}
    assert present == {people["2"]["key"]}


def test_a_refused_punch_may_be_cancelled_and_keeps_its_reason(server, client, employees):
    """The punch was refused at sync (the kiosk lists it under 送信エラー all the same); its correction is
    accepted, and the timecard shows the punch struck through, its refusal still noted."""
    retired = employees["1007"]
    now = datetime.now(tz=timezone(timedelta(hours=9))).replace(microsecond=0)
    at = min(now.replace(day=1, hour=10, minute=0, second=0), now - timedelta(minutes=2))   # after retired_on
    refused = punch(retired, at.isoformat())
    first, undo = upload(client, refused, correction(refused, 2))
    assert (first["status"], first["error"]["key"], undo["status"]) == ("rejected", "after_retirement", "accepted")
    page = timecard(server, client, retired, refused["stamped_at"])
    row = page.split(f"<s>{at:%H:%M}</s></td><td><s>出勤</s> 取消", 1)[1].split("</tr>", 1)[0]
    assert "要確認" in row and first["error"]["message"] in row
