"""The client's fingerprint endpoints against a scripted HTTPS peer: what is sent, 304, and every kind of garbage
in an answer → 007 with the data-update message (never a crash, never part of an answer)."""
from __future__ import annotations

import base64

import numpy as np
import pytest

from dakoku_core.errors import KioskError, Situation
from kiosk.ports.recorder_api import RegisteredFinger
from dakoku_core.fingerprint.template import FingerprintTemplate

from .harness import json_answer

pytestmark = pytest.mark.timeout(60)


def template_b64(minutiae: int = 20) -> str:
    rng = np.random.default_rng(minutiae)
    template = FingerprintTemplate.from_columns(rng.uniform(0, 300, minutiae), rng.uniform(0, 380, minutiae),
                                                rng.uniform(0, 6.2, minutiae), np.full(minutiae, 60.0),
                                                width=320, height=384)
    return base64.b64encode(template.to_bytes()).decode()


def answer(fingers=None, deleted=(), **extra):
    body = {"version": 9, "full": False, "since": 4, "deleted": list(deleted),
            "fingers": fingers if fingers is not None else [
                {"employee_key": "E1001", "finger": 2, "version": 8, "templates": [template_b64(), template_b64(25)]}]}
    body.update(extra)
    return json_answer(200, body, ETag='W/"f9"')


def test_pull_translates_the_answer_and_304(sync_server, scripted):
    script = scripted.play(answer(deleted=[{"employee_key": "E1003", "finger": 0, "version": 7}]),
                           (304, {}, b""))
    client = sync_server.demo.client(scripted.url)
    snapshot = client.fingerprints(since=4, etag='W/"f4"')
    assert (snapshot.version, snapshot.etag, snapshot.full) == (9, 'W/"f9"', False)
    [finger] = snapshot.fingers
    assert (finger.employee_key, finger.finger, finger.version) == ("E1001", 2, 8)
    assert [len(t) for t in finger.templates] == [20, 25]
    assert [(d.employee_key, d.finger, d.version) for d in snapshot.deleted] == [("E1003", 0, 7)]
    assert client.fingerprints(since=9, etag='W/"f9"') is None
    assert [(m, p) for m, p, _t in script.requests] == [("GET", "/v1/fingerprints?since=4"),
                                                      ("GET", "/v1/fingerprints?since=9")]


def finger_row(**changes):
    row = {"employee_key": "E1001", "finger": 2, "version": 8, "templates": [template_b64()]}
    row.update(changes)
    return row


GARBAGE = {
    "bad-base64": finger_row(templates=["not base64 at all!"]),
    "urlsafe-alphabet": finger_row(templates=[template_b64().replace("+", "-").replace("/", "_") + "-_"]),
    "undecodable-template": finger_row(templates=[base64.b64encode(b"DKFT\x09garbage").decode()]),
    "no-minutiae": finger_row(templates=[template_b64(0)]),
    "oversized": finger_row(templates=[base64.b64encode(b"\0" * (16 * 1024 + 1)).decode()]),
    "finger-10": finger_row(finger=10),
    "no-templates": finger_row(templates=[]),
    "nine-templates": finger_row(templates=[template_b64()] * 9),
    "template-not-a-string": finger_row(templates=[42]),
    "version-missing": {k: v for k, v in finger_row().items() if k != "version"},
}


@pytest.mark.parametrize("row", GARBAGE.values(), ids=GARBAGE.keys())
def test_garbage_in_any_finger_fails_the_whole_answer_as_007(sync_server, scripted, row):
    scripted.play(answer(fingers=[finger_row(employee_key="E1002"), row]))
    client = sync_server.demo.client(scripted.url)
    with pytest.raises(KioskError) as info:
        client.fingerprints(since=4)
    assert info.value.code == "007" and info.value.message("ja") == "データの更新に失敗しました"


@pytest.mark.parametrize("body", [[], {"version": 9, "full": True}, {"version": -1, "full": True, "fingers": [],
                                                                      "deleted": []}])
def test_answers_without_the_documented_shape_are_007(sync_server, scripted, body):
    scripted.play(json_answer(200, body))
    with pytest.raises(KioskError) as info:
        sync_server.demo.client(scripted.url).fingerprints()
    assert info.value.code == "007"


def test_register_and_delete(sync_server, scripted):
    script = scripted.play(json_answer(201, {"registered": True, "employee_key": "E1001", "finger": 0,
                                             "sub_templates": 1, "version": 12}),
                           json_answer(200, {"deleted": True, "version": 13}),
                           json_answer(200, {"registered": False}))
    client = sync_server.demo.client(scripted.url)
    assert client.register_fingerprint("E1001", None, [b"DKFT..."]) == RegisteredFinger(0, 12)
    assert client.delete_fingerprint("E 1001/x", 3) is True
    with pytest.raises(KioskError) as info:
        client.register_fingerprint("E1001", 0, [b"x"])
    assert info.value.code == "007"
    assert [(m, p) for m, p, _t in script.requests] == [
        ("POST", "/v1/fingerprints"), ("DELETE", "/v1/fingerprints/E%201001%2Fx/3"), ("POST", "/v1/fingerprints")]


def test_a_registration_answer_for_another_finger_than_asked_is_unreadable(sync_server, scripted):
    scripted.play(json_answer(201, {"registered": True, "employee_key": "E1001", "finger": 4,
                                    "sub_templates": 1, "version": 12}))
    with pytest.raises(KioskError) as info:
        sync_server.demo.client(scripted.url).register_fingerprint("E1001", 3, [b"x"])
    assert info.value.code == "007"


def test_the_servers_409_surfaces_with_its_context(sync_server, scripted):
    scripted.play(json_answer(409, {"error": {"key": "credential_registered_to_employee", "code": None,
                                              "context": {"name": "山田 太郎", "code": "1001"}}}))
    with pytest.raises(KioskError) as info:
        sync_server.demo.client(scripted.url).register_fingerprint("E1001", 1, [b"x"])
    assert info.value.key == "credential_registered_to_employee"
    assert info.value.message("ja") == "検出された認証データは「山田 太郎(1001)」に登録済みです"
    assert info.value.situation is Situation.REGISTRATION
