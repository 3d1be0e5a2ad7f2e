"""Fingerprint templates with the server: registration with the company-wide duplicate check, deletion with
tombstones, the department-scoped pull (since/ETag/304), and sealing at rest.

Fingers are synthetic (dakoku_core.fingerprint.synth, TEST seeds): two impressions of each, minutiae extracted by
mindtct, so a genuine pair is two different captures of one finger, as at a kiosk. Each test uses its own
fingers and its own employees, so the tests do not depend on one another.
"""
from __future__ import annotations

import base64
import os
import subprocess
import sys
import uuid

import jsonschema
import numpy as np
import pytest

from dakoku_core.fingerprint import FingerprintTemplate, Matcher, TemplateCipher, TemplateSealError
from dakoku_core.fingerprint.code_codec import decode_code, encode_code
from dakoku_core.fingerprint.crypto import FileKeyProvider
from dakoku_core.fingerprint.extractors import MindtctExtractor
from dakoku_core.fingerprint.synth import TEST, synthetic_set
from dakoku_core.protocol.schemas import FINGERPRINT_SET
from dakoku_server import admin
from dakoku_server.db import Company, Employee, HelpRegistration
from dakoku_server.db import FingerprintTemplate as Row
from dakoku_server.fingerprint_gallery import GalleryCache
from dakoku_server.template_vault import TemplateVault, binding, resolve_keys_dir

pytestmark = pytest.mark.timeout(120)

FINGERS = 21
FINGERPRINT_SET_VALIDATOR = jsonschema.Draft202012Validator(FINGERPRINT_SET)


@pytest.fixture(scope="session")
def prints() -> list[tuple[FingerprintTemplate, FingerprintTemplate]]:
    """``FINGERS`` synthetic fingers, two impressions (a genuine pair) each, as minutiae templates."""
    extractor = MindtctExtractor()
    images = synthetic_set(TEST, FINGERS, 2)
    return [(extractor.extract(row[0]), extractor.extract(row[1])) for row in images]


def b64(template: FingerprintTemplate) -> str:
    return base64.b64encode(template.to_bytes()).decode("ascii")


def new_employee(department: str, last_name: str = "指紋", first_name: str = "太郎") -> Employee:
    return admin.add_employee(admin.company("DEMO"), f"F{uuid.uuid4().hex[:10]}", last_name, department, "FULL",
                              first_name=first_name)


def register(client, employee_key: str, finger: int, *templates: FingerprintTemplate | str):
    texts = [t if isinstance(t, str) else b64(t) for t in templates]
    return client.request("POST", "v1/fingerprints",
                          json={"employee_key": employee_key, "finger": finger, "templates": texts})


def delete(client, employee_key: str, finger: int | str):
    return client.request("DELETE", f"v1/fingerprints/{employee_key}/{finger}")


def pull(client, since: int | None = None, etag: str | None = None):
    path = "v1/fingerprints" + (f"?since={since}" if since is not None else "")
    return client.request("GET", path, headers={"If-None-Match": etag} if etag else None)


def pulled(client, since: int | None = None) -> dict:
    response = pull(client, since)
    assert response.status_code == 200, response.text
    return response.json()


def fingers_of(payload: dict) -> dict[tuple[str, int], dict]:
    return {(f["employee_key"], f["finger"]): f for f in payload["fingers"]}


def may_punch_at(department: str) -> set[str]:
    """Keys of the employees whose fingers an HQ kiosk may have: the department's and help-registered ones."""
    dept = admin.department(admin.company("DEMO"), department)
    helped = HelpRegistration.select(HelpRegistration.employee).where(HelpRegistration.department == dept)
    return {e.key for e in Employee.select().where((Employee.department == dept) | Employee.id.in_(helped))}


def error_of(response) -> tuple[int, str, str]:
    error = response.json()["error"]
    return response.status_code, error["key"], error["reason"]


def test_register_and_replace_one_finger(client, prints):
    emp = new_employee("HQ")
    first = register(client, emp.key, 1, prints[0][0])
    assert first.status_code == 201, first.text
    body = first.json()
    assert body == {"registered": True, "employee_key": emp.key, "finger": 1, "sub_templates": 1,
                    "version": body["version"]}
    # The same finger again, from the other impression: replaces it (its own old templates are not duplicates).
    again = register(client, emp.key, 1, prints[0][1], prints[0][0])
    assert again.status_code == 201, again.text
    assert again.json()["sub_templates"] == 2 and again.json()["version"] > body["version"]
    rows = Row.select().where(Row.employee == emp.id).order_by(Row.seq)
    assert [(r.finger, r.seq, r.version) for r in rows] == [(1, 0, again.json()["version"]),
                                                           (1, 1, again.json()["version"])]


def register_new(client, employee_key: str, *templates: FingerprintTemplate):
    """A new finger: no number in the request, the server gives it one."""
    return client.request("POST", "v1/fingerprints",
                          json={"employee_key": employee_key, "templates": [b64(t) for t in templates]})


def distinct_fingers(first_seed: int, count: int) -> list[FingerprintTemplate]:
    from dakoku_core.fingerprint.synth import minutiae_template
    return [minutiae_template(seed=first_seed + k) for k in range(count)]


def test_a_new_finger_is_numbered_by_the_server_lowest_free_first(client):
    emp = new_employee("HQ")
    fingers = distinct_fingers(8_100_000, 11)      # 3, then 1 into the gap, then 6 more: all ten, then one too many
    numbers = [register_new(client, emp.key, t).json()["finger"] for t in fingers[:3]]
    assert numbers == [0, 1, 2]
    assert delete(client, emp.key, 1).json()["deleted"] is True
    assert register_new(client, emp.key, fingers[3]).json()["finger"] == 1          # the gap is reused
    assert [register_new(client, emp.key, t).json()["finger"] for t in fingers[4:10]] == [3, 4, 5, 6, 7, 8]
    assert register_new(client, emp.key, distinct_fingers(8_150_000, 1)[0]).json()["finger"] == 9
    full = register_new(client, emp.key, fingers[10])
    assert error_of(full) == (409, "enrollment_failed", "all_fingers_enrolled")
    assert {r.finger for r in Row.select().where(Row.employee == emp.id)} == set(range(10))


def test_two_kiosks_enrolling_one_employee_at_once_get_different_numbers(client):
    from concurrent.futures import ThreadPoolExecutor

    emp = new_employee("HQ")
    fingers = distinct_fingers(8_200_000, 6)
    with ThreadPoolExecutor(max_workers=6) as pool:
        answers = list(pool.map(lambda t: register_new(client, emp.key, t), fingers))
    assert [a.status_code for a in answers] == [201] * 6
    assert sorted(a.json()["finger"] for a in answers) == list(range(6))
    assert {r.finger for r in Row.select().where(Row.employee == emp.id)} == set(range(6))


def test_another_employees_finger_is_a_duplicate_without_saying_whose(client, prints):
    owner, other = new_employee("HQ"), new_employee("HQ", "指紋", "次郎")
    assert register(client, owner.key, 2, prints[1][0]).status_code == 201
    before = Company.get(Company.code == "DEMO").data_version
    response = register(client, other.key, 6, prints[1][1])
    assert error_of(response) == (409, "credential_duplicate", "credential_duplicate")
    assert response.json()["error"]["context"] == {}
    assert not Row.select().where(Row.employee == other.id).exists()
    assert Company.get(Company.code == "DEMO").data_version == before       # nothing changed
    assert register(client, other.key, 6, prints[2][0]).status_code == 201  # a different finger is fine


def test_a_registration_padded_with_another_fingers_template_is_refused(client, prints):
    """Every posted template of a finger must agree with the others, as the kiosk's enrolment makes them: the
    duplicate check needs every one to reach an enrolled finger, so padding with another finger's template
    would slip a duplicate past it."""
    owner, other = new_employee("HQ"), new_employee("HQ", "指紋", "三郎")
    assert register(client, owner.key, 2, prints[19][0]).status_code == 201
    padded = register(client, other.key, 6, prints[19][1], prints[20][0])
    assert error_of(padded) == (400, "unexpected", "templates_disagree")
    assert not Row.select().where(Row.employee == other.id).exists()
    alone = register(client, other.key, 6, prints[19][1])           # the same finger without the padding
    assert error_of(alone) == (409, "credential_duplicate", "credential_duplicate")
    assert register(client, other.key, 6, prints[20][0], prints[20][1]).status_code == 201   # one finger's: fine


def test_own_other_finger_names_the_employee(client, prints):
    emp = new_employee("HQ", "指紋", "花子")
    assert register(client, emp.key, 3, prints[3][0]).status_code == 201
    response = register(client, emp.key, 4, prints[3][1])
    assert error_of(response) == (409, "credential_registered_to_employee", "credential_registered_to_employee")
    assert response.json()["error"]["context"] == {"name": "指紋 花子", "code": emp.code}
    assert f"指紋 花子({emp.code})" in response.json()["error"]["message"]


@pytest.mark.parametrize("text", [
    "not base64!", "QUJD", "QUJDRA",                            # bad alphabet, not a template, no padding
    base64.b64encode(b"DKFT" + bytes(9)).decode(),              # header only, version 0
    b64(FingerprintTemplate(np.zeros((0, 5)), 320, 384)),       # no minutiae
    base64.b64encode(b"x" * (16 * 1024 + 1)).decode(),          # more than 16 KiB
])
def test_invalid_template_is_400(client, prints, text):
    emp = new_employee("HQ")
    response = register(client, emp.key, 0, prints[4][0], text)
    assert error_of(response) == (400, "unexpected", "invalid_template")
    assert not Row.select().where(Row.employee == emp.id).exists()


def test_malformed_bodies_and_unknown_employee(client, prints):
    emp = new_employee("HQ")
    for body in ({"employee_key": emp.key, "finger": 10, "templates": [b64(prints[4][0])]},
                 {"employee_key": emp.key, "finger": 1, "templates": []},
                 {"employee_key": emp.key, "finger": 1, "templates": [b64(prints[4][0])] * 9},
                 {"employee_key": emp.key, "finger": True, "templates": [b64(prints[4][0])]}):
        response = client.request("POST", "v1/fingerprints", json=body)
        assert response.status_code == 400 and response.json()["error"]["reason"].startswith("invalid_body")
    assert error_of(register(client, "no-such-employee", 1, prints[4][0]))[:2] == (404, "employee_not_found")


def test_delete_leaves_a_tombstone_and_is_idempotent(client, prints):
    emp = new_employee("HQ")
    registered = register(client, emp.key, 5, prints[5][0]).json()["version"]
    first = delete(client, emp.key, 5)
    assert first.status_code == 200 and first.json() == {"deleted": True, "version": registered + 1}
    assert not Row.select().where(Row.employee == emp.id).exists()
    again = delete(client, emp.key, 5)
    assert again.status_code == 200 and again.json() == {"deleted": False, "version": registered + 1}
    delta = pulled(client, since=registered)
    assert {"employee_key": emp.key, "finger": 5, "version": registered + 1} in delta["deleted"]
    assert (emp.key, 5) not in fingers_of(delta)
    assert all(t["kind"] != "fingerprint" for t in client.master_data(since=registered).json()["deleted"])
    assert error_of(delete(client, "no-such-employee", 5))[:2] == (404, "employee_not_found")
    assert error_of(delete(client, emp.key, 10)) == (400, "unexpected", "invalid_finger")
    assert register(client, new_employee("HQ").key, 5, prints[5][1]).status_code == 201   # free again


def test_full_and_incremental_pulls_with_etag(client, prints):
    emp = new_employee("HQ")
    register(client, emp.key, 7, prints[6][0], prints[6][1])
    first = pull(client)
    assert first.status_code == 200 and first.headers["ETag"] == f'W/"f{first.json()["version"]}"'
    full = first.json()
    assert full["full"] is True and full["since"] is None and full["deleted"] == []
    entry = fingers_of(full)[(emp.key, 7)]
    assert [FingerprintTemplate.from_bytes(base64.b64decode(t)).same_as(p)
            for t, p in zip(entry["templates"], prints[6])] == [True, True]
    unchanged = pull(client, etag=first.headers["ETag"])
    assert unchanged.status_code == 304 and unchanged.headers["ETag"] == first.headers["ETag"]
    assert not unchanged.content
    assert pulled(client, since=full["version"])["fingers"] == []

    register(client, emp.key, 8, prints[7][0])
    changed = pull(client, since=full["version"], etag=first.headers["ETag"])
    assert changed.status_code == 200 and changed.headers["ETag"] != first.headers["ETag"]
    delta = changed.json()
    assert delta["full"] is False and delta["since"] == full["version"]
    assert [(f["employee_key"], f["finger"]) for f in delta["fingers"]] == [(emp.key, 8)]
    assert pulled(client, since=delta["version"] + 1000)["full"] is True      # future version: everything
    for payload in (full, delta):
        FINGERPRINT_SET_VALIDATOR.validate(payload)


def test_scope_is_the_department_and_its_help_registrations(client, client_at, prints, employees):
    other_dept, helped = new_employee("STORE"), new_employee("STORE")
    assert register(client_at("STORE"), other_dept.key, 1, prints[8][0]).status_code == 201
    assert register(client, employees["1005"]["key"], 9, prints[9][0]).status_code == 201  # STORE, helped to HQ
    assert register(client, employees["1007"]["key"], 9, prints[10][0]).status_code == 201  # retired: still sent
    assert register(client_at("STORE"), helped.key, 1, prints[11][0]).status_code == 201
    assert error_of(register(client, helped.key, 2, prints[11][1]))[:2] == (403, "auth_failed")  # not HQ's
    full = fingers_of(pulled(client))
    assert (other_dept.key, 1) not in full and (helped.key, 1) not in full
    assert (employees["1005"]["key"], 9) in full and (employees["1007"]["key"], 9) in full
    assert {key for key, _ in full} <= may_punch_at("HQ")

    before = pulled(client)["version"]
    assert client.register_help(helped.key, "HQ").status_code == 201
    delta = pulled(client, since=before)
    assert (helped.key, 1) in fingers_of(delta) and (other_dept.key, 1) not in fingers_of(delta)
    assert (helped.key, 1) in fingers_of(pulled(client))


def test_an_employee_who_moves_in_after_n_is_sent_since_n(client, client_at, prints):
    mover = new_employee("WAREHOUSE")
    assert register(client_at("WAREHOUSE"), mover.key, 2, prints[12][0]).status_code == 201
    n = pulled(client)["version"]
    assert (mover.key, 2) not in fingers_of(pulled(client, since=n))
    admin.update_employee(admin.company("DEMO"), mover.code, department="HQ")
    delta = pulled(client, since=n)
    assert (mover.key, 2) in fingers_of(delta)
    assert fingers_of(delta)[(mover.key, 2)]["version"] <= n            # the finger itself did not change


def test_pull_sends_only_what_a_kiosk_needs(client, prints):
    emp = new_employee("HQ", "最小", "化")
    register(client, emp.key, 0, prints[13][0])
    payload = pulled(client)
    assert set(payload) == {"version", "full", "since", "fingers", "deleted"}
    assert all(set(f) == {"employee_key", "finger", "version", "templates"} for f in payload["fingers"])
    text = pull(client).text
    assert "最小" not in text and emp.code not in text and "DKFE" not in text      # no names, no sealed blobs
    raw = base64.b64decode(fingers_of(payload)[(emp.key, 0)]["templates"][0])
    assert raw.startswith(b"DKFT") and FingerprintTemplate.from_bytes(raw).same_as(prints[13][0])


def test_sealed_blobs_open_only_with_their_binding(server, client, prints, tmp_path):
    emp = new_employee("HQ")
    assert register(client, emp.key, 4, prints[14][0]).status_code == 201
    row = Row.get(Row.employee == emp.id)
    vault = TemplateVault(FileKeyProvider(server.template_keys))
    right = binding("DEMO", emp.key, 4)
    stored = FingerprintTemplate.from_bytes(prints[14][0].to_bytes())
    assert vault.open_template(row.sealed, right).same_as(stored)
    assert encode_code(vault.open_code(row.sealed_code, right)) == encode_code(Matcher().encode(stored))
    for wrong in (binding("DEMO", "someone-else", 4), binding("DEMO", emp.key, 5), binding("IPCO", emp.key, 4)):
        with pytest.raises(TemplateSealError):
            vault.open_template(row.sealed, wrong)
        with pytest.raises(TemplateSealError):
            vault.open_code(row.sealed_code, wrong)
    with pytest.raises(TemplateSealError):                      # a code blob is not a template ...
        TemplateCipher(vault.keys).open(bytes(row.sealed_code), right)
    with pytest.raises(TemplateSealError):                      # ... nor a template blob a code
        vault.open_code(row.sealed, right)
    with pytest.raises(TemplateSealError):                      # other keys (e.g. a stolen DB elsewhere)
        TemplateVault(FileKeyProvider(tmp_path / "other-keys")).open_template(row.sealed, right)


def test_no_plaintext_template_in_the_sqlite_database_file(server, client, prints):
    if not server.db_path.is_file():
        pytest.skip("the database is not a SQLite file")
    emp = new_employee("HQ")
    assert register(client, emp.key, 0, prints[15][0]).status_code == 201
    template = FingerprintTemplate.from_bytes(prints[15][0].to_bytes())
    files = sorted(server.db_path.parent.glob(server.db_path.name + "*"))       # the file, its -wal and -shm
    data = b"".join(path.read_bytes() for path in files)
    assert bytes(Row.get(Row.employee == emp.id).sealed) in data    # the search sees the server's writes
    plain = template.to_bytes()
    assert plain not in data and plain[13:13 + 64] not in data       # neither the template nor 8 of its minutiae
    assert encode_code(Matcher().encode(template))[7:7 + 256] not in data        # nor its cylinder code
    keys = [path.read_bytes() for path in server.template_keys.glob("*.key")]
    assert keys and not any(key in data for key in keys)             # the keys live apart


class CountingVault(TemplateVault):
    opened = 0

    def open_code(self, blob, bound):
        self.opened += 1
        return super().open_code(blob, bound)


def test_gallery_cache_decrypts_stored_codes_and_only_what_changed(server, client, prints, monkeypatch):
    def no_encoding(template):
        raise AssertionError("a cold or updated gallery must not re-encode templates")
    assert register(client, new_employee("HQ").key, 1, prints[17][0]).status_code == 201
    monkeypatch.setattr("dakoku_core.fingerprint.mcc.encode", no_encoding)
    vault, cache = CountingVault(FileKeyProvider(server.template_keys)), GalleryCache()
    demo = Company.get(Company.code == "DEMO")
    cold = cache.gallery(demo, vault)
    stored = Row.select().where(Row.company == demo).count()
    assert len(cold) == stored == vault.opened >= 1
    assert cache.gallery(demo, vault) is cold and vault.opened == stored          # same version: kept
    monkeypatch.undo()
    emp = new_employee("HQ")
    assert register(client, emp.key, 2, prints[16][0], prints[16][1]).status_code == 201
    monkeypatch.setattr("dakoku_core.fingerprint.mcc.encode", no_encoding)
    updated = cache.gallery(Company.get_by_id(demo.id), vault)
    assert vault.opened == stored + 2 and len(updated) == stored + 2
    assert delete(client, emp.key, 2).json()["deleted"] is True
    after_delete = cache.gallery(Company.get_by_id(demo.id), vault)
    assert vault.opened == stored + 2 and len(after_delete) == stored
    assert emp.key not in after_delete.employees()
    for k in range(0, len(after_delete), max(1, len(after_delete) // 5)):    # prefilter rows still line up
        assert after_delete.prefilter(after_delete.entries[k].code, 1) == [k]


def test_a_finger_changed_while_the_gallery_loads_is_loaded_next_time(server, client, prints, monkeypatch):
    from dakoku_server import fingerprint_gallery
    emp = new_employee("HQ")
    assert register(client, emp.key, 3, prints[18][0]).status_code == 201
    vault, cache = CountingVault(FileKeyProvider(server.template_keys)), GalleryCache()
    demo = Company.get(Company.code == "DEMO")
    real = fingerprint_gallery.finger_versions(demo)
    moved = (emp.key, 3)                     # as if re-registered between the listing and the load
    monkeypatch.setattr(fingerprint_gallery, "finger_versions", lambda company: {**real, moved: real[moved] - 1})
    first = cache.gallery(demo, vault)
    assert moved not in {(e.employee_key, e.finger) for e in first.entries}
    monkeypatch.undo()
    demo.data_version += 1                   # the change that moved it bumped the version
    again = cache.gallery(demo, vault)
    assert moved in {(e.employee_key, e.finger) for e in again.entries}
    assert len(again) == Row.select().where(Row.company == demo).count()


def test_template_keys_directory(server, tmp_path):
    default = resolve_keys_dir(f"sqlite:///{tmp_path}/data/server.sqlite", None)
    assert default == str(tmp_path / "data" / "template-keys")
    assert resolve_keys_dir("postgresql://u@127.0.0.1/db", None) is None
    assert resolve_keys_dir("postgresql://u@127.0.0.1/db", str(tmp_path / "k")) == str(tmp_path / "k")
    assert (server.template_keys / "current").is_file()             # made by serve (SQLite: beside the file)


def test_serve_refuses_a_non_sqlite_database_without_template_keys():
    env = {k: v for k, v in os.environ.items() if k != "DAKOKU_TEMPLATE_KEYS"}
    done = subprocess.run([sys.executable, "-m", "dakoku_server.cli", "--db", "postgresql://nobody@127.0.0.1:1/none",
                           "serve", "--insecure-no-tls"], capture_output=True, text=True, timeout=60, env=env)
    assert done.returncode == 2 and "--template-keys" in done.stderr and "Traceback" not in done.stderr


def test_cylinder_code_bytes_round_trip(prints):
    code = Matcher().encode(prints[0][0])
    again = decode_code(encode_code(code))
    assert len(again) == len(code) > 0 and Matcher().score(code, again) == Matcher().score(code, code)
    for array in ("xy", "angles", "packed_bits", "packed_valid"):
        assert np.array_equal(getattr(code, array), getattr(again, array))
    with pytest.raises(ValueError):
        decode_code(encode_code(code)[:-1])
