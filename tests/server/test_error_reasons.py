"""Refusals never echo what was sent (issue 13): a schema error names where and which rule, never the offending
value, which may be a card ID, a fingerprint template or a password hash; jsonschema's own messages quote it.
Checked on whole requests (JSON bodies) and on single punches of a batch, over TLS against the real server."""
from __future__ import annotations

import json
import uuid

import pytest

from dakoku_server.punch_items import invalid, unparseable

pytestmark = pytest.mark.timeout(60)
SECRET = "SECRET4a7e"                       # stands for a card ID or a template


def punch(**fields) -> dict:
    return {"uuid": str(uuid.uuid4()), "employee_key": "k" * 32, "kind": "clock_in",
            "stamped_at": "2026-01-05T10:00:00+09:00", "time_source": "ntp", "offline": False,
            "auth_method": "card", **fields}


BAD_PUNCHES = {
    "key too long": punch(employee_key=SECRET * 10),
    "not a stamp": punch(stamped_at=f"{SECRET}T10:00"),
    "stamp without offset": punch(stamped_at="2026-01-05T10:00:00"),
    "unknown kind": punch(kind=SECRET),
    "wrong type": punch(offline=SECRET),
    "unknown field": punch(card_id=SECRET),
}


@pytest.mark.parametrize("item", BAD_PUNCHES.values(), ids=BAD_PUNCHES.keys())
def test_a_malformed_punch_is_refused_without_its_value(client, item):
    response = client.upload_punches([item])
    assert response.status_code == 200, response.text
    result = response.json()["results"][0]
    assert (result["status"], result["error"]["key"]) == ("rejected", "unexpected")
    assert result["error"]["reason"].startswith("invalid_punch: ")
    assert SECRET not in response.text and "2026-01-05T10:00:00\"" not in result["error"]["reason"]


BAD_BODIES = {
    "v1/credentials": {"employee_key": "k" * 32, "method": "card", "ref": SECRET + "!" * 70},
    "v1/help-registrations": {"employee_key": SECRET * 10},
    "v1/fingerprints": {"employee_key": "k" * 32, "finger": SECRET, "templates": ["AAAA"]},
}


@pytest.mark.parametrize("path, body", BAD_BODIES.items(), ids=BAD_BODIES.keys())
def test_a_malformed_body_is_refused_without_its_value(client, path, body):
    response = client.request("POST", path, json=body)
    assert response.status_code == 400
    assert response.json()["error"]["reason"].startswith("invalid_body: ")
    assert SECRET not in response.text


def test_the_punch_checks_word_their_reasons_without_the_value():
    class Recorder:
        code = "R001"
    assert SECRET not in json.dumps(invalid(punch(employee_key=SECRET * 10), Recorder()))
    assert invalid(punch(), Recorder()) is None
    unparsed = unparseable("u", ValueError(f"Invalid isoformat string: '{SECRET}'"))
    assert SECRET not in json.dumps(unparsed) and unparsed["error"]["reason"].startswith("invalid_punch: stamped_at")


BAD_CORRECTIONS = {
    "cancels no uuid": {"cancels": SECRET},
    "key too long": {"employee_key": SECRET * 10},
    "not a stamp": {"stamped_at": f"{SECRET}T10:00"},
}


@pytest.mark.parametrize("fields", BAD_CORRECTIONS.values(), ids=BAD_CORRECTIONS.keys())
def test_a_malformed_correction_is_refused_without_its_value(client, fields):
    item = {**punch(), "kind": "cancel", "cancels": str(uuid.uuid4()), **fields}
    del item["auth_method"]
    response = client.upload_punches([item])
    assert response.status_code == 200, response.text
    result = response.json()["results"][0]
    assert (result["status"], result["error"]["key"]) == ("rejected", "unexpected")
    assert result["error"]["reason"].startswith("invalid_correction: ") and SECRET not in response.text


def test_a_timecard_token_stays_out_of_the_error_log(server, caplog):
    """An unexpected error on a timecard page is logged with its traceback and the path, the token redacted
    (dakoku_server.log_redaction; gunicorn's and nginx's access logs: tests/server/test_slow_clients.py)."""
    import logging
    import time

    from dakoku_server import admin, recorders
    from dakoku_server.app import ServerConfig, create_app
    from dakoku_server.db import Company, Recorder, RecorderKey
    from dakoku_server.timecard import make_token

    code = f"TZ{uuid.uuid4().hex[:6]}"
    comp = admin.add_company(code, "壊れた会社")
    admin.add_department(comp, "MAIN", "本店")
    admin.add_employment_type(comp, "FULL", "正社員")
    emp = admin.add_employee(comp, "1", "時計", "MAIN", "FULL", first_name="壊")
    recorders.add_recorder(comp, "R1", "MAIN", server_url=server.url)
    key = RecorderKey.select().join(Recorder).where(Recorder.company == comp).get()
    token = make_token(emp.key, code, int(time.time()) + 60, key.key_id)
    Company.update(timezone="Nowhere/Broken").where(Company.id == comp.id).execute()   # the page will fail
    app = create_app(ServerConfig(db_url=server.db_url))
    with caplog.at_level(logging.ERROR, logger="dakoku_server"):
        response = app.test_client().get(f"/timecard/{token}", headers={"Accept": "application/json"})
    assert response.status_code == 500 and response.get_json()["error"]["key"] == "server_error"
    assert "unhandled error on GET /timecard/" in caplog.text and "Traceback" in caplog.text
    assert token not in caplog.text and token.split(".")[0] not in caplog.text
