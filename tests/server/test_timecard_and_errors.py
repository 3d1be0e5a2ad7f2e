"""Timecard links, JSON errors for 404/405/500, and the served OpenAPI file."""
from __future__ import annotations

import re
import sqlite3
import time

import pytest
import requests

pytestmark = pytest.mark.timeout(60)


def test_timecard_link_renders_the_employee_page(server, client, employees):
    response = client.timecard_url(employees["1001"]["key"])
    assert response.status_code == 200
    url = response.json()["url"]
    assert url.startswith(server.url + "timecard/")
    page = requests.get(url, verify=server.ca_file, timeout=10)
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    assert "山田 太郎" in page.text and "(1001)" in page.text


def test_timecard_link_expires(server, client, employees):
    url = client.timecard_url(employees["1001"]["key"], ttl_seconds=1).json()["url"]
    time.sleep(2.2)
    expired = requests.get(url, verify=server.ca_file, timeout=10)
    assert expired.status_code == 403
    assert (expired.json()["error"]["key"], expired.json()["error"]["reason"]) == \
        ("auth_failed", "timecard_link_expired")
    as_browser = requests.get(url, verify=server.ca_file, timeout=10, headers={"Accept": "text/html"})
    assert as_browser.status_code == 403 and "<html" in as_browser.text and "Traceback" not in as_browser.text


def test_forged_timecard_link_is_refused(server, client, employees):
    url = client.timecard_url(employees["1001"]["key"]).json()["url"]
    forged = url[:-4] + ("AAAA" if not url.endswith("AAAA") else "BBBB")
    response = requests.get(forged, verify=server.ca_file, timeout=10)
    assert (response.status_code, response.json()["error"]["reason"]) == (403, "timecard_link_invalid")
    unknown = client.timecard_url("no-such-employee")
    assert (unknown.status_code, unknown.json()["error"]["key"]) == (404, "employee_not_found")


def test_unknown_route_and_method_are_json(server, client):
    for response in (requests.get(server.url + "no/such/page", verify=server.ca_file, timeout=10),
                     client.request("GET", "v1/no-such-endpoint")):
        assert response.status_code == 404
        assert response.json()["error"]["key"] == "server_error" and response.json()["error"]["code"] == "007"
    wrong_method = requests.put(server.url + "healthz", verify=server.ca_file, timeout=10)
    assert (wrong_method.status_code, wrong_method.json()["error"]["reason"]) == (405, "method_not_allowed")


def test_internal_error_is_json_without_traceback(server, client):
    since = client.master_data().json()["version"]
    with sqlite3.connect(server.db_path, timeout=30) as conn:       # break the server's database under it
        conn.execute("ALTER TABLE tombstone RENAME TO tombstone_hidden")
    try:
        response = client.master_data(since=since - 1)
    finally:
        with sqlite3.connect(server.db_path, timeout=30) as conn:
            conn.execute("ALTER TABLE tombstone_hidden RENAME TO tombstone")
    assert response.status_code == 500
    assert response.headers["Content-Type"].startswith("application/json")
    assert response.json()["error"]["key"] == "server_error"
    assert "Traceback" not in response.text and "tombstone" not in response.text
    assert client.master_data(since=since - 1).status_code == 200


def test_openapi_is_served_and_lists_every_route(server):
    response = requests.get(server.url + "openapi.yaml", verify=server.ca_file, timeout=10)
    assert response.status_code == 200 and response.text.startswith("openapi: 3.")
    from dakoku_server.app import ServerConfig, create_app
    app = create_app(ServerConfig(db_url=server.db_url))
    documented = set(re.findall(r"^  (/\S*):\s*$", response.text, re.M))
    for rule in app.url_map.iter_rules():
        if rule.endpoint != "static":
            assert re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule) in documented, rule.rule
