"""The standing abuse suite (issue 10, items 2–6): a client that signs like a kiosk sends what a kiosk never
would, against the real server (gunicorn, TLS, SQLite on disk). Every refusal is counted by case; the last
test prints the table and checks that no case was answered with a 5xx. (Item 1, slow clients, is in
test_slow_clients.py; item 3, files at rest, in test_secrets_at_rest.py.)"""
from __future__ import annotations

import json
import random
import uuid
from collections import Counter
from datetime import datetime, timedelta, timezone

import pytest
import requests

from dakoku_core.protocol.signing import sign_request
from dakoku_server import admin, recorders
from dakoku_server.db import Punch

pytestmark = pytest.mark.timeout(120)
JST = timezone(timedelta(hours=9))
REFUSALS: Counter = Counter()
SERVER_ERRORS: list[str] = []


def count(case: str, response: requests.Response) -> requests.Response:
    """Record the answer to one abuse case (status and catalogue key)."""
    if response.status_code >= 500:
        SERVER_ERRORS.append(f"{case}: {response.status_code} {response.text[:200]}")
    elif response.status_code >= 400:
        REFUSALS[case] += 1
    return response


def count_rejected(case: str, result: dict) -> dict:
    if result["status"] == "rejected":
        REFUSALS[case] += 1
    return result


def raw_signed(server, client, method: str, path: str, body: bytes) -> requests.Response:
    """A signed request whose body is exactly ``body`` (the signature is valid: only the content is bad)."""
    cert = client.session.auth.certificate
    headers = {**sign_request(cert.private_key, cert.key_id, method, path, body),
               "Content-Type": "application/json"}
    return requests.request(method, server.url + path.lstrip("/"), data=body, headers=headers,
                            verify=server.ca_file, timeout=30)


def new_punch(employee_key: str, at: str, **extra) -> dict:
    return {"uuid": str(uuid.uuid4()), "employee_key": employee_key, "kind": "clock_in", "stamped_at": at,
            "time_source": "ntp", "offline": False, "auth_method": "card", **extra}


def fresh_employee(department: str = "HQ", **fields):
    return admin.add_employee(admin.company("DEMO"), f"A{uuid.uuid4().hex[:9]}", "濫用", department, "FULL",
                              first_name="試験", **fields)


def error_of(response: requests.Response) -> tuple[int, str, str]:
    error = response.json()["error"]
    return response.status_code, error["key"], error["reason"]


# -- item 2: bad input --------------------------------------------------------------------------------------
def test_json_nested_1000_deep_is_a_400(server, client):
    for path in ("/v1/punches", "/v1/help-registrations", "/v1/credentials"):
        deep = b'{"punches": ' + b"[" * 1000 + b"]" * 1000 + b"}"
        response = count("json_1000_deep", raw_signed(server, client, "POST", path, deep))
        assert error_of(response) == (400, "unexpected", "json_too_deep")


@pytest.mark.parametrize("body", [
    b'{"employee_key": "\\ud800"}',                       # a lone high surrogate
    b'{"employee_key": "x\\udc00y"}',                     # a lone low surrogate
    b'{"employee_key": "abc\\u0000"}',                    # NUL (PostgreSQL cannot store it)
    b'{"employee_key": "\\ud800\\u0000", "x": {"\\udfff": 1}}',   # in a key too
])
def test_lone_surrogates_and_nul_are_a_400(server, client, body):
    response = count("bad_unicode", raw_signed(server, client, "POST", "/v1/help-registrations", body))
    assert error_of(response) == (400, "unexpected", "invalid_characters")


def test_a_paired_surrogate_is_fine_and_a_newline_is_just_an_unknown_key(server, client):
    emoji = raw_signed(server, client, "POST", "/v1/help-registrations", b'{"employee_key": "\\ud83d\\ude00"}')
    newline = raw_signed(server, client, "POST", "/v1/help-registrations", b'{"employee_key": "abc\\n"}')
    for response in (count("unknown_employee", emoji), count("unknown_employee", newline)):
        assert error_of(response)[:2] == (404, "employee_not_found")


def test_invalid_utf8_and_non_json_constants_are_a_400(server, client):
    bad_utf8 = count("bad_utf8", raw_signed(server, client, "POST", "/v1/help-registrations",
                                            b'{"employee_key": "\xff\xfe"}'))
    assert error_of(bad_utf8) == (400, "unexpected", "invalid_utf8")
    nan = count("nan", raw_signed(server, client, "POST", "/v1/punches", b'{"punches": [NaN]}'))
    assert error_of(nan) == (400, "unexpected", "invalid_json")


def test_a_surrogate_inside_one_punch_fails_the_request_not_the_server(server, client, employees, stamp):
    good = json.dumps(new_punch(employees["1001"]["key"], stamp(40)))
    body = ('{"punches": [' + good + ', {"uuid": "\\ud800"}]}').encode()
    response = count("surrogate_in_batch", raw_signed(server, client, "POST", "/v1/punches", body))
    assert error_of(response) == (400, "unexpected", "invalid_characters")


def test_stamps_out_of_range_fail_only_their_own_punch(client, employees, stamp):
    now = datetime.now(JST)
    key = fresh_employee(hired_on=now.date() - timedelta(days=400)).key     # the company's day, not UTC's
    items = [new_punch(key, "9999-12-31T23:59:59+09:00"), new_punch(key, "0001-01-01T00:00:00+09:00"),
             new_punch(key, "9999-12-31T23:00:00-12:00"), new_punch(key, "0001-01-01T00:00:00+14:00"),
             new_punch(key, (now + timedelta(days=36500)).isoformat()),        # 100 years ahead
             new_punch(key, (now + timedelta(hours=1)).isoformat()),           # beyond the 300 s window
             new_punch(key, (now - timedelta(days=402)).isoformat()),          # before the hire date's eve
             new_punch(key, stamp(41))]                                        # an ordinary punch
    results = client.upload_punches(items)
    assert results.status_code == 200, results.text
    results = [count_rejected("stamp_out_of_range", r) for r in results.json()["results"]]
    assert [r["status"] for r in results] == ["rejected"] * 7 + ["accepted"]
    reasons = [(r["error"]["key"], r["error"]["reason"]) for r in results[:7]]
    assert reasons == [("auth_failed", "stamped_in_future"), ("before_hire_date", "stamped_too_early"),
                       ("auth_failed", "stamped_in_future"), ("before_hire_date", "stamped_too_early"),
                       ("auth_failed", "stamped_in_future"), ("auth_failed", "stamped_in_future"),
                       ("before_hire_date", "stamped_too_early")]
    assert results[0]["error"]["cause_letter"] == "B"
    again = client.upload_punches(items).json()["results"]                     # kept: the same answer again
    assert [r["status"] for r in again] == ["duplicate"] * 8
    assert [r["recorded_status"] for r in again] == ["rejected"] * 7 + ["accepted"]


def test_a_stamp_inside_the_window_is_accepted(client):
    key = fresh_employee().key
    ahead = (datetime.now(JST) + timedelta(seconds=60)).isoformat()
    assert client.upload_punches([new_punch(key, ahead)]).json()["results"][0]["status"] == "accepted"


@pytest.mark.parametrize("month", ["9999-12", "0001-01", "2024-13", "2024-1", "abcd", "1969-12", "２０２４-01"])
def test_timecard_month_out_of_range_is_a_400(server, client, employees, month):
    url = client.timecard_url(employees["1001"]["key"]).json()["url"]
    response = count("timecard_month", requests.get(url, params={"month": month}, verify=server.ca_file, timeout=10))
    assert error_of(response) == (400, "unexpected", "invalid_month")


def test_oversized_fields_and_bodies_are_4xx(server, client, employees, stamp):
    long_key = new_punch("k" * 65, stamp(42))
    result = count_rejected("oversized_field", client.upload_punches([long_key]).json()["results"][0])
    assert (result["status"], result["error"]["key"]) == ("rejected", "unexpected")
    huge = b'{"punches": [' + b'"' + b"x" * (2 * 1024 * 1024) + b'"]}'
    response = count("oversized_body", raw_signed(server, client, "POST", "/v1/punches", huge))
    assert response.status_code == 413


def test_an_oversized_body_is_answered_every_time(server, client):
    """The client must read the 413, not a reset: without dakoku_server.body_limit, gunicorn closed while a
    2 MiB body was still arriving and 12 in 50 such requests failed with SSLEOFError (35 % under CPU load)."""
    huge = b'{"punches": ["' + b"x" * (2 * 1024 * 1024) + b'"]}'
    statuses = [count("oversized_body", raw_signed(server, client, "POST", "/v1/punches", huge)).status_code
                for _ in range(20)]
    assert statuses == [413] * 20


def test_random_garbage_never_gets_a_5xx(server, client):
    rng = random.Random(10)
    alphabet = [b"{", b"}", b"[", b"]", b'"', b":", b",", b"\\", b"\\u", b"d800", b"1e999999", b"-", b"null",
                b"true", b"\xff", b"\x00", b"punches", b"employee_key", b"uuid", b"0001-01-01", b"9999"]
    paths = ["/v1/punches", "/v1/help-registrations", "/v1/credentials", "/v1/fingerprints",
             "/v1/employees/x/timecard-url"]
    for n in range(60):
        body = b"".join(rng.choice(alphabet) for _ in range(rng.randint(1, 40)))
        count("garbage", raw_signed(server, client, "POST", paths[n % len(paths)], body))
    assert not SERVER_ERRORS, SERVER_ERRORS


# -- item 5: punch UUIDs ------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def second_company(server):
    comp = admin.add_company("UUCO", "別会社")
    admin.add_department(comp, "MAIN", "本店")
    admin.add_employment_type(comp, "FULL", "正社員")
    emp = admin.add_employee(comp, "9001", "別", "MAIN", "FULL", first_name="社員")
    prov = recorders.add_recorder(comp, "RU1", "MAIN", server_url=server.url)
    return server.client(prov.text()), emp.key


def test_a_uuid_is_unique_per_company_not_across_companies(client, employees, second_company, stamp):
    other_client, other_key = second_company
    mine = new_punch(employees["1003"]["key"], stamp(43))
    theirs = {**new_punch(other_key, stamp(43)), "uuid": mine["uuid"]}
    assert client.upload_punches([mine]).json()["results"][0]["status"] == "accepted"
    result = other_client.upload_punches([theirs]).json()["results"][0]
    assert result["status"] == "accepted"                               # not "duplicate" with our result
    assert Punch.select().where(Punch.uuid == mine["uuid"]).count() == 2


@pytest.mark.parametrize("mangle", [str.upper, lambda u: u + "\n", lambda u: u + " ", lambda u: "{" + u + "}",
                                    lambda u: u.replace("-", ""), lambda u: " " + u])
def test_only_canonical_uuids_are_taken(client, employees, stamp, mangle):
    canonical = str(uuid.uuid4())
    item = {**new_punch(employees["1004"]["key"], stamp(44)), "uuid": mangle(canonical)}
    result = count_rejected("non_canonical_uuid", client.upload_punches([item]).json()["results"][0])
    assert (result["status"], result["error"]["key"]) == ("rejected", "unexpected")
    assert Punch.select().where(Punch.uuid.in_([canonical, mangle(canonical)])).count() == 0


# -- item 4: scope ------------------------------------------------------------------------------------------
def test_out_of_scope_employees_are_refused_with_cause_c(client, employees, prints_free_ref):
    store_emp = fresh_employee("STORE")
    cases = {
        "timecard_other_department": client.timecard_url(store_emp.key),
        "card_other_department": client.register_credential(store_emp.key, "card", prints_free_ref()),
        "fingerprint_delete_other_department": client.request("DELETE", f"v1/fingerprints/{store_emp.key}/0"),
        "help_into_other_department": client.register_help(store_emp.key, "STORE"),
    }
    for case, response in cases.items():
        count(case, response)
        assert response.status_code == 403, (case, response.text)
        assert response.json()["error"]["key"] == "auth_failed" and response.json()["error"]["cause_letter"] == "C"


def test_another_departments_card_cannot_be_deleted(client, employees):
    cards = {c["employee_key"]: c["ref"] for c in client.master_data().json()["credentials"] if c["method"] == "card"}
    response = count("card_delete_other_department", client.delete_credential("card", cards[employees["1006"]["key"]]))
    assert error_of(response)[:2] == (403, "auth_failed")
    assert any(c["ref"] == cards[employees["1006"]["key"]] for c in client.master_data().json()["credentials"])


def test_help_registration_into_own_department_still_works_and_removal_is_own_only(client):
    store_emp = fresh_employee("STORE")
    admin.add_help(admin.company("DEMO"), store_emp.code, "WAREHOUSE")
    removal = count("unhelp_other_department", client.request("DELETE", f"v1/help-registrations/{store_emp.key}/WAREHOUSE"))
    assert error_of(removal)[:2] == (403, "auth_failed")
    assert client.register_help(store_emp.key).status_code == 201              # ヘルプ登録 at this kiosk
    assert client.timecard_url(store_emp.key).status_code == 200               # now in scope
    assert client.request("DELETE", f"v1/help-registrations/{store_emp.key}/HQ").json()["deleted"] is True
    assert client.timecard_url(store_emp.key).status_code == 403


def test_master_data_sends_password_hashes_only_where_password_punching_is_allowed(client):
    store_pw = fresh_employee("STORE", password_punch_allowed=True, password="store-secret", login_id=f"s{uuid.uuid4().hex[:6]}")
    hq_pw = fresh_employee("HQ", password_punch_allowed=True, password="hq-secret", login_id=f"h{uuid.uuid4().hex[:6]}")
    hq_no = fresh_employee("HQ", password="unused-secret")
    by_key = {e["key"]: e for e in client.master_data().json()["employees"]}
    assert by_key[hq_pw.key]["password_hash"] and by_key[hq_pw.key]["in_scope"] is True
    assert by_key[hq_no.key]["password_hash"] == ""
    stub = by_key[store_pw.key]
    assert (stub["password_hash"], stub["login_id"], stub["password_punch_allowed"], stub["in_scope"]) == \
        ("", "", False, False)
    hashes = [e for e in by_key.values() if e["password_hash"]]
    assert all(e["in_scope"] and e["password_punch_allowed"] for e in hashes)
    before = client.master_data().json()["version"]
    assert client.register_help(store_pw.key).status_code == 201               # now it may punch here
    delta = {e["key"]: e for e in client.master_data(since=before).json()["employees"]}
    assert delta[store_pw.key]["password_hash"] and delta[store_pw.key]["in_scope"] is True


@pytest.fixture
def prints_free_ref():
    return lambda: "abuse" + uuid.uuid4().hex[:20]


# -- item 6: timecard links ---------------------------------------------------------------------------------
@pytest.mark.parametrize("kill", ["revoke", "renew"])
def test_timecard_link_dies_with_its_recorder_key(server, employees, kill):
    demo = admin.company("DEMO")
    code = f"TC{uuid.uuid4().hex[:6]}"
    tc_client = server.client(recorders.add_recorder(demo, code, "HQ", server_url=server.url).text())
    url = tc_client.timecard_url(employees["1001"]["key"]).json()["url"]
    assert requests.get(url, verify=server.ca_file, timeout=10).status_code == 200
    if kill == "revoke":
        recorders.revoke(demo, code)
    else:
        recorders.renew_certificate(demo, code, server_url=server.url)
    response = count(f"timecard_after_{kill}", requests.get(url, verify=server.ca_file, timeout=10))
    assert error_of(response) == (403, "auth_failed", "timecard_link_revoked")


def test_timecard_link_obeys_the_ip_allow_list(server):
    comp = admin.add_company(f"TC{uuid.uuid4().hex[:6]}", "許可リスト社")
    admin.add_department(comp, "MAIN", "本店")
    admin.add_employment_type(comp, "FULL", "正社員")
    emp = admin.add_employee(comp, "1", "許可", "MAIN", "FULL")
    tc_client = server.client(recorders.add_recorder(comp, "R1", "MAIN", server_url=server.url).text())
    url = tc_client.timecard_url(emp.key).json()["url"]
    assert requests.get(url, verify=server.ca_file, timeout=10).status_code == 200
    admin.allow_ip(comp, "127.0.0.2")                                        # 127.0.0.1 is no longer allowed
    response = count("timecard_ip_not_allowed", requests.get(url, verify=server.ca_file, timeout=10))
    assert error_of(response)[:2] == (403, "ip_not_allowed")


def test_timecard_page_headers_and_host_from_configuration(server, client, employees):
    url = client.request("POST", f"v1/employees/{employees['1001']['key']}/timecard-url", json={},
                         headers={"Host": "evil.example"}).json()["url"]
    assert url.startswith(server.url + "timecard/") and "evil" not in url
    for response in (requests.get(url, verify=server.ca_file, timeout=10),
                     requests.get(url[:-3] + "AAA", verify=server.ca_file, timeout=10,
                                  headers={"Accept": "text/html"})):
        assert response.headers["Cache-Control"] == "no-store"
        assert response.headers["Referrer-Policy"] == "no-referrer"
        assert response.headers["X-Frame-Options"] == "DENY"


def test_refused_punches_appear_on_the_timecard_as_to_be_checked(server, client, employees):
    retired = employees["1007"]                                           # retired: the server refuses
    now = datetime.now(JST).replace(microsecond=0)
    at = min(now.replace(day=1, hour=9, minute=0, second=0), now - timedelta(minutes=1))   # after retired_on
    result = client.upload_punches([new_punch(retired["key"], at.isoformat())]).json()["results"][0]
    assert (result["status"], result["error"]["key"]) == ("rejected", "after_retirement")
    url = client.timecard_url(retired["key"]).json()["url"]
    page = requests.get(url, params={"month": at.strftime("%Y-%m")}, verify=server.ca_file, timeout=10).text
    assert "要確認" in page and at.strftime("%Y-%m-%d") in page
    assert result["error"]["message"] in page                                  # the catalogue's reason


# -- the table --------------------------------------------------------------------------------------------
def test_refusals_are_counted_and_none_was_a_5xx():
    print("\nabuse refusals by case:")
    for case, n in sorted(REFUSALS.items()):
        print(f"  {case:40s} {n}")
    print(f"  {'total':40s} {sum(REFUSALS.values())}")
    assert not SERVER_ERRORS, SERVER_ERRORS
    assert sum(REFUSALS.values()) >= 30
