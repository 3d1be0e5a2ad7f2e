"""Slow clients (issue 10, item 1), through the production recipe: ``serve --front-proxy nginx``.

Fifty TLS connections from this host each send a request-header byte every 5 s and never finish; meanwhile a
kiosk makes signed requests. Every one must be answered (within a few seconds; the benchmark
benchmarks/slow_clients.py prints the percentiles, and shows gunicorn alone failing the same attack). The
test also checks that the slow connections really were open while it measured, so it cannot pass vacuously,
and that the front's and gunicorn's access logs never hold a timecard token (item 6).
"""
from __future__ import annotations

import time

import pytest
import requests

from dakoku_server.front_proxy import nginx_binary
from tests.server.slowloris import SlowClients, isolated_server, measure

pytestmark = pytest.mark.timeout(300)


def test_nginx_is_installed_by_the_recipe():
    assert nginx_binary() is not None, "nginx is missing: run scripts/setup.sh"


@pytest.fixture(scope="module")
def front(tmp_path_factory):
    with isolated_server(tmp_path_factory.mktemp("front"), front=True) as server:
        yield server


def test_fifty_slow_connections_do_not_stop_the_kiosks(front):
    client = front.client(timeout=5.0)
    assert client.server_time().status_code == 200
    with SlowClients("127.0.0.1", front.port, front.ca_file, count=50, interval=5.0) as slow:
        for _ in range(100):                                   # let the attack build up (≤ 10 s)
            if slow.open_now >= 50:
                break
            time.sleep(0.1)
        timings = measure(client, 40, slow, pause=0.3)
    assert timings.failures == []                              # every request answered within its 5 s timeout
    assert timings.within(2.0) >= 0.95
    assert min(timings.slow_open) >= 40                        # the attack was really on while we measured
    print(f"\nslow-client attack through nginx: p50 {timings.percentile(50) * 1000:.0f} ms, "
          f"p95 {timings.percentile(95) * 1000:.0f} ms, max {max(timings.seconds) * 1000:.0f} ms; "
          f"slow connections opened {slow.opened}")


def test_slow_connections_are_closed_by_the_header_timeout(front):
    with SlowClients("127.0.0.1", front.port, front.ca_file, count=3, interval=2.0) as slow:
        time.sleep(15)                           # client_header_timeout is 10 s
        opened = slow.opened
    assert opened >= 6                                         # each was closed at least once and reopened


def test_the_front_passes_the_client_address_and_logs_no_token(front):
    client = front.client()
    employee = next(e for e in client.master_data().json()["employees"] if e["code"] == "1001")
    url = client.timecard_url(employee["key"]).json()["url"]
    token = url.rsplit("/", 1)[1]
    assert requests.get(url, verify=front.ca_file, timeout=10).status_code == 200
    assert requests.get(url + "x", verify=front.ca_file, timeout=10).status_code == 403
    time.sleep(1.0)                              # let nginx and gunicorn write their logs
    logs = front.logs()
    assert token not in logs and token[:20] not in logs
    assert "/timecard/[redacted]" in logs


def test_the_allow_list_sees_the_real_peer_through_the_front(front):
    """nginx passes the TCP peer in X-Real-IP (overwriting what a client sends), and serve trusts only that."""
    import subprocess
    import sys

    def admin(*args: str) -> None:
        subprocess.run([sys.executable, "-m", "dakoku_server.cli", "--db", f"sqlite:///{front.directory / 'server.sqlite'}",
                        "ip-allow", *args], check=True, capture_output=True, timeout=60)

    client = front.client()
    admin("add", "DEMO", "127.0.0.2")
    try:
        spoofed = client.request("GET", "v1/time", headers={"X-Real-IP": "127.0.0.2", "X-Forwarded-For": "127.0.0.2"})
        assert (spoofed.status_code, spoofed.json()["error"]["key"]) == (403, "ip_not_allowed")
        admin("add", "DEMO", "127.0.0.1")
        assert client.server_time().status_code == 200
    finally:
        admin("remove", "DEMO", "127.0.0.2")
        admin("remove", "DEMO", "127.0.0.1")


def test_what_the_front_refuses_itself_is_the_apps_json_error(front):
    """A body over 1 MiB is refused by nginx before gunicorn sees it: the kiosk must still get the JSON error body
    (catalogue key, reason), not nginx's HTML page, so it reads a kiosk bug (999) and does not retry."""
    from dakoku_core.protocol.error_body import error_from_body

    answer = requests.post(front.url + "v1/punches", data=b"x" * (2 * 1024 * 1024), verify=front.ca_file,
                           headers={"Content-Type": "application/json"}, timeout=20)
    assert answer.status_code == 413
    assert answer.headers["Content-Type"].startswith("application/json")
    body = answer.json()
    assert body["error"]["reason"] == "request_entity_too_large"
    assert error_from_body(body).code == "999"
    assert "<html" not in answer.text.lower() and "nginx" not in answer.text.lower()
