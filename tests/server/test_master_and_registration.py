"""Master data (ETag, incremental pulls, card key) and registrations from the kiosk."""
from __future__ import annotations

import uuid

import pytest

from dakoku_core.domain.credentials import card_ref
from dakoku_core.protocol.certificate import b64url_decode
from dakoku_server import admin

pytestmark = pytest.mark.timeout(60)


def new_ref() -> str:
    return uuid.uuid4().hex + uuid.uuid4().hex


def test_full_pull_has_everything_the_kiosk_needs(client):
    response = client.master_data()
    assert response.status_code == 200
    data = response.json()
    assert data["full"] is True and data["version"] > 0
    assert data["recorder"]["code"] == "R001" and data["recorder"]["department_code"] == "HQ"
    assert data["recorder"]["settings"]["reauth_interval_seconds"] == 60
    assert {t["code"]: t["break_punch_allowed"] for t in data["employment_types"]} == \
        {"FULL": True, "PART": True, "SHORT": False}
    assert {d["code"] for d in data["departments"]} == {"HQ", "STORE", "WAREHOUSE"}
    by_code = {e["code"]: e for e in data["employees"]}
    assert by_code["1002"]["password_punch_allowed"] and by_code["1002"]["password_hash"].startswith("scrypt$")
    refs = {c["ref"]: c["employee_key"] for c in data["credentials"] if c["method"] == "card"}
    assert refs[card_ref(b64url_decode(data["card_key"]), "0123456789ABCDE1")] == by_code["1001"]["key"]
    assert {"employee_key": by_code["1005"]["key"], "department_code": "HQ"} in data["help_registrations"]


def test_etag_304_and_incremental_pull(client, employees):
    first = client.master_data()
    etag, version = first.headers["ETag"], first.json()["version"]
    unchanged = client.master_data(etag=etag)
    assert unchanged.status_code == 304 and unchanged.headers["ETag"] == etag and not unchanged.content

    ref = new_ref()
    assert client.register_credential(employees["1003"]["key"], "card", ref).status_code == 201
    changed = client.master_data(since=version, etag=etag)
    assert changed.status_code == 200 and changed.headers["ETag"] != etag
    delta = changed.json()
    assert delta["full"] is False
    assert delta["credentials"] == [{"employee_key": employees["1003"]["key"], "method": "card", "ref": ref}]
    assert delta["employees"] == [] and delta["deleted"] == []

    assert client.delete_credential("card", ref).json()["deleted"] is True
    after_delete = client.master_data(since=delta["version"]).json()
    assert after_delete["deleted"] == [{"kind": "credential", "key": f"card:{ref}",
                                        "version": after_delete["version"]}]


def test_credential_duplicates_are_checked_company_wide(client, employees):
    ref = new_ref()
    assert client.register_credential(employees["1001"]["key"], "card", ref).status_code == 201
    same = client.register_credential(employees["1001"]["key"], "card", ref)
    assert same.status_code == 409
    error = same.json()["error"]
    assert error["key"] == "credential_registered_to_employee"
    assert error["context"] == {"name": "山田 太郎", "code": "1001"}
    assert "山田 太郎(1001)" in error["message"]
    other = client.register_credential(employees["1002"]["key"], "card", ref)
    assert (other.status_code, other.json()["error"]["key"]) == (409, "credential_duplicate")
    assert other.json()["error"]["context"] == {}          # who holds it is not disclosed


def test_demo_card_cannot_be_registered_to_someone_else(client, employees):
    card_key = b64url_decode(client.master_data().json()["card_key"])
    response = client.register_credential(employees["1003"]["key"], "card", card_ref(card_key, "0123456789ABCDE1"))
    assert (response.status_code, response.json()["error"]["key"]) == (409, "credential_duplicate")


def test_credential_deletion_is_idempotent_and_unknown_employee_is_404(client, employees):
    ref = new_ref()
    client.register_credential(employees["1003"]["key"], "card", ref)
    assert client.delete_credential("card", ref).json()["deleted"] is True
    assert client.delete_credential("card", ref).json()["deleted"] is False
    response = client.register_credential("no-such-employee", "card", new_ref())
    assert (response.status_code, response.json()["error"]["key"]) == (404, "employee_not_found")


def test_help_registration_lets_the_employee_punch_here(client, stamp):
    row = admin.add_employee(admin.company("DEMO"), "2001", "小林", "STORE", "FULL", first_name="翼")
    def punch(at: str) -> dict:
        body = {"uuid": str(uuid.uuid4()), "employee_key": row.key, "kind": "clock_in", "stamped_at": at,
                "time_source": "server", "offline": False, "auth_method": "card"}
        return client.upload_punches([body]).json()["results"][0]
    refused = punch(stamp(10))
    assert (refused["error"]["key"], refused["error"]["cause_letter"]) == ("auth_failed", "C")
    created = client.register_help(row.key)               # default: the recorder's own department
    assert (created.status_code, created.json()["department_code"]) == (201, "HQ")
    again = client.register_help(row.key, "HQ")
    assert again.status_code == 200 and again.json()["created"] is False
    assert punch(stamp(11))["status"] == "accepted"
    unknown = client.register_help(row.key, "NOWHERE")
    assert (unknown.status_code, unknown.json()["error"]["key"]) == (400, "unexpected")
    deleted = client.request("DELETE", f"v1/help-registrations/{row.key}/HQ")
    assert deleted.json()["deleted"] is True
    assert punch(stamp(12))["error"]["key"] == "auth_failed"
