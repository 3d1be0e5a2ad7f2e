"""Fuzz every endpoint of the reference server (kiosk-server serve over TLS on loopback) with bodies, path segments
and query strings, signed like the demo recorder: every answer is below 500 and, when it refuses, carries a catalogue
key (the error body of dakoku_core.protocol.error_body), within a time bound."""
from __future__ import annotations

import base64
import time
import uuid
from urllib.parse import quote

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dakoku_core.errors import catalogue
from tests.campaigns.peers import demo_peer

from .fuzzing import COUNTS, examples
from .strategies import DEEP_JSON_TEXT, JSON, ODD_TEXT, json_text, mutated_bytes, replaced

SERVER_TIME_BOUND = 10.0     # wall seconds per request (server work + TLS), even on a loaded 2-core machine
RNG = np.random.default_rng(3)


@pytest.fixture(scope="module")
def peer(tmp_path_factory):
    peer = demo_peer(tmp_path_factory.mktemp("fuzz-server"))
    peer.process.start()
    try:
        yield peer
    finally:
        peer.process.stop()


def segment(text: str) -> str:
    return quote(text.encode("utf-8", "surrogatepass"), safe="")


def wire(value) -> bytes:
    return json_text(value).encode("utf-8", "surrogatepass")


def template_text() -> str:
    from dakoku_core.fingerprint.template import FingerprintTemplate

    rows = np.column_stack([RNG.uniform(0, 300, 40), RNG.uniform(0, 400, 40), RNG.uniform(0, 6.28, 40),
                            RNG.uniform(40, 100, 40), RNG.integers(1, 3, 40)]).astype(np.float32)
    return base64.b64encode(FingerprintTemplate(rows, 300, 400, 500).to_bytes()).decode()


def code_text(mutate: bytes | None = None) -> str:
    """A cylinder code (what the kiosk sends to /v1/fingerprints/identify), or the given bytes instead."""
    from dakoku_core.fingerprint.code_codec import encode_code
    from dakoku_core.fingerprint.matcher import Matcher
    from dakoku_core.fingerprint.template import FingerprintTemplate

    if mutate is not None:
        return base64.b64encode(mutate).decode()
    rows = np.column_stack([RNG.uniform(0, 300, 40), RNG.uniform(0, 400, 40), RNG.uniform(0, 6.28, 40),
                            RNG.uniform(40, 100, 40), RNG.integers(1, 3, 40)]).astype(np.float32)
    return base64.b64encode(encode_code(Matcher().encode(FingerprintTemplate(rows, 300, 400, 500)))).decode()


CODE = code_text()


def punch(key: str) -> dict:
    return {"uuid": str(uuid.uuid4()), "employee_key": key, "kind": "clock_in",
            "stamped_at": "2025-05-01T09:00:00+09:00", "time_source": "ntp", "offline": True,
            "auth_method": "card", "recorder_code": "R001"}


def bodies(valid: dict):
    """A JSON body: the valid one with fields replaced, random JSON, deep nesting, raw bytes."""
    return st.one_of(replaced(valid).map(wire), JSON.map(wire), DEEP_JSON_TEXT.map(str.encode),
                     st.binary(max_size=60), st.just(wire(valid)))


EDGE_VALUES = st.sampled_from(["9999-12-31T23:59:59+09:00", "0001-01-01T00:00:00+00:00", "2126-01-01T09:00:00+09:00",
                              "2025-05-01T09:00:00", str(uuid.uuid4()).upper(), str(uuid.uuid4()) + "\n", "x" * 5000,
                              "\ud800", 2**63, -1, 1e308])
ODD_SEGMENT = st.one_of(ODD_TEXT.filter(bool).map(segment), st.sampled_from(["..", "%00", "%2F", "9" * 40]))
QUERY = st.one_of(st.just(""), ODD_TEXT.map(lambda t: "?since=" + segment(t)),
                  st.integers(-2**70, 2**70).map(lambda n: f"?since={n}"))
MONTH = st.one_of(st.sampled_from(["9999-12", "0001-01", "2026-13", "2026-00", "+2026-01", "２０２６-０１", ""]),
                  ODD_TEXT.map(segment))


@st.composite
def requests_for(draw, key: str):
    """(label, method, path, body bytes) for one endpoint of the Recorder API."""
    choice = draw(st.integers(0, 12))
    if choice == 0:
        rows = draw(st.lists(replaced(punch(key), JSON | EDGE_VALUES) | st.just(punch(key)), max_size=4))
        return "POST /v1/punches", "POST", "/v1/punches", draw(st.one_of(bodies({"punches": [punch(key)]}),
                                                                         st.just(wire({"punches": rows}))))
    if choice == 1:
        return "POST /v1/credentials", "POST", "/v1/credentials", draw(bodies(
            {"employee_key": key, "method": "card", "ref": "ab" * 32}))
    if choice == 2:
        return ("DELETE /v1/credentials/{method}/{ref}", "DELETE",
                f"/v1/credentials/{draw(ODD_SEGMENT | st.just('card'))}/{draw(ODD_SEGMENT)}", b"")
    if choice == 3:
        return "POST /v1/help-registrations", "POST", "/v1/help-registrations", draw(bodies({"employee_key": key}))
    if choice == 4:
        return ("DELETE /v1/help-registrations/{key}/{department}", "DELETE",
                f"/v1/help-registrations/{draw(ODD_SEGMENT | st.just(key))}/{draw(ODD_SEGMENT | st.just('HQ'))}", b"")
    if choice == 5:
        return "POST /v1/fingerprints", "POST", "/v1/fingerprints", draw(bodies(
            {"employee_key": key, "finger": 2, "templates": [template_text() for _ in range(3)]}))
    if choice == 6:
        return ("DELETE /v1/fingerprints/{key}/{finger}", "DELETE",
                f"/v1/fingerprints/{draw(ODD_SEGMENT | st.just(key))}/{draw(ODD_SEGMENT | st.just('2'))}", b"")
    if choice == 7:
        return "GET /v1/fingerprints", "GET", "/v1/fingerprints" + draw(QUERY), b""
    if choice == 8:
        return "GET /v1/master", "GET", "/v1/master" + draw(QUERY), b""
    if choice == 9:
        return "GET /v1/time", "GET", "/v1/time" + draw(QUERY), b""
    if choice == 11:   # the cylinder code of an unmatched finger (cause C)
        code = draw(st.one_of(st.just(CODE), mutated_bytes(base64.b64decode(CODE)).map(code_text), ODD_TEXT))
        return "POST /v1/fingerprints/identify", "POST", "/v1/fingerprints/identify", draw(bodies({"code": code}))
    if choice == 10:
        return ("POST /v1/employees/{key}/timecard-url", "POST",
                f"/v1/employees/{draw(ODD_SEGMENT | st.just(key))}/timecard-url", draw(bodies({})))
    return "GET /timecard/{token}?month", "GET", f"/timecard/{draw(ODD_SEGMENT)}?month={draw(MONTH)}", b""


def check_answer(label: str, response) -> None:
    assert response.status_code < 500, f"{label}: {response.status_code} {response.text[:300]}"
    if response.status_code >= 400 and response.headers.get("Content-Type", "").startswith("application/json"):
        error = response.json().get("error", {})
        assert error.get("key") in catalogue(), f"{label}: refusal without a catalogue key: {response.text[:300]}"


@settings(max_examples=examples(150))
@given(data=st.data())
def test_every_endpoint_answers_below_500(peer, data):
    session = getattr(peer, "_fuzz_session", None) or peer.signed_session()
    peer._fuzz_session = session
    label, method, path, body = data.draw(requests_for(peer.employee_key("1001")))
    COUNTS[f"server {label}"] += 1
    started = time.perf_counter()
    response = session.request(method, peer.process.url.rstrip("/") + path, data=body or None,
                               headers={"Content-Type": "application/json"} if body else {},
                               verify=peer.process.ca_file, timeout=30)
    elapsed = time.perf_counter() - started
    check_answer(f"{label} {path[:80]!r} body={body[:120]!r}", response)
    assert elapsed < SERVER_TIME_BOUND, f"{label}: {elapsed:.1f} s"


@pytest.mark.parametrize("month", ["9999-12", "0001-01", "2026-13", "１２３４-５６"])
def test_timecard_months_answer_below_500(peer, month):
    session = peer.signed_session()
    url = session.post(peer.process.url + f"v1/employees/{peer.employee_key('1001')}/timecard-url", json={},
                       verify=peer.process.ca_file, timeout=30).json()["url"]
    path = "/timecard/" + url.split("/timecard/", 1)[1]
    response = session.get(peer.process.url.rstrip("/") + path, params={"month": month},
                           verify=peer.process.ca_file, timeout=30)
    COUNTS["server GET /timecard/{token}?month (real token)"] += 1
    assert response.status_code < 500, f"month={month!r}: {response.status_code}"
