"""A company's fingerprint self-check is kept in the database (dakoku_server.self_check_store): the server's workers
share one check per gallery, a restart decides with it from its first request, a worker that stopped renewing its
claim (hung or killed mid-check) does not hold the others back, and a kept value another version wrote is replaced.

A second worker is a second ``GalleryCache`` in this process on the same database, as each gunicorn worker has its
own; the restart is a real one (another ``kiosk-server serve`` on the session's database, asked over HTTPS).
Company, prints and the run seam are those of tests/server/test_fingerprint_self_check.py.
"""
from __future__ import annotations

import base64
import json
import threading
import time
import uuid
from datetime import timedelta

import peewee as pw
import pytest
import requests

from dakoku_core.errors import KioskError
from dakoku_core.fingerprint import FingerprintIdentifier, Matcher
from dakoku_core.fingerprint.code_codec import encode_code
from dakoku_core.fingerprint.crypto import FileKeyProvider
from dakoku_core.fingerprint.gallery import Gallery
from dakoku_core.protocol.signing import sign_request
from dakoku_server import admin, api_fingerprints, self_check_store
from dakoku_server.fingerprint_gallery import GALLERIES, GalleryCache
from dakoku_server.self_check_store import FingerprintSelfCheck
from dakoku_server.template_vault import TemplateVault
from tests.support.server_process import ServerProcess, free_port
from tests.server.test_fingerprint_self_check import (HEAVY, WAIT_S, Runs, app, delete, heavy, light,  # noqa: F401
                                                      rows, runs, tenant)

pytestmark = pytest.mark.timeout(180)


def worker(run) -> GalleryCache:
    """Another worker process's cache (it polls often: the test need not wait POLL_S)."""
    return GalleryCache(run=run, poll_s=0.05)


def identify(cache: GalleryCache, company, vault: TemplateVault, template) -> str:
    """What ``cache``'s worker answers to a kiosk at IN about ``template`` (every employee is outside its scope)."""
    identifier = cache.identifier(company.company(), vault, lambda gallery: FingerprintIdentifier(
        gallery, api_fingerprints.MATCHER, pattern_limit=len(gallery) + 1))
    try:
        identifier.identify(Matcher().encode(template), identifier.gallery.employees())
        return "outside_scope"
    except KioskError:
        return "none"


def wait_for(condition, what: str) -> None:
    deadline = time.monotonic() + WAIT_S
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.02)


@pytest.fixture
def vault(server) -> TemplateVault:
    return TemplateVault(FileKeyProvider(server.template_keys))


def test_two_workers_run_one_check_of_a_gallery_and_both_decide_with_it(app, server, rows, runs, vault):
    runs.script = light
    company = tenant(app, server, rows, 3)
    assert company.checks().finished.wait(WAIT_S)
    before = len(runs.done)
    runs.script, runs.gate = heavy, threading.Event()
    assert delete(company.outside, company.keys[2], 1).get_json()["deleted"] is True
    wait_for(lambda: runs.running == 1, "the first worker's check of the new gallery holds its claim")
    other = worker(runs)
    assert identify(other, company, vault, rows[0][2]) == "outside_scope"    # the kept (light) check meanwhile
    assert not other.self_checks(company.company_id).finished.wait(0.5)     # it waits for the first worker's
    assert runs.running == 1 and runs.most_at_once == 1                      # and runs none of its own
    runs.gate.set()
    assert other.self_checks(company.company_id).finished.wait(WAIT_S)
    assert company.checks().finished.wait(WAIT_S)
    assert [(n, abandoned) for n, _check, abandoned in runs.done[before:]] == [(2, False)]   # one run of it in all
    assert other.self_checks(company.company_id).current == company.checks().current
    assert other.self_checks(company.company_id).current.calibration == HEAVY
    assert identify(other, company, vault, rows[0][2]) == "none"             # both decide with it
    assert company.inside.identify(rows[0][2]) == "none"


def test_a_new_way_of_checking_checks_again_and_the_kept_check_stands_meanwhile(app, server, rows, runs, vault,
                                                                                 monkeypatch):
    """A kept check is of a gallery *and* of the way it was computed: after an upgrade that changes the check
    (METHOD), each company's is computed again, the old one deciding until then."""
    runs.script = heavy
    company = tenant(app, server, rows, 3)
    assert company.checks().finished.wait(WAIT_S)
    ran = len(runs.done)
    monkeypatch.setattr(self_check_store, "METHOD", self_check_store.METHOD + " (next)")
    runs.script, runs.gate = light, threading.Event()
    other = worker(runs)
    assert identify(other, company, vault, rows[0][2]) == "none"             # the kept (heavy) check stands
    runs.gate.set()
    assert other.self_checks(company.company_id).finished.wait(WAIT_S)
    assert len(runs.done) == ran + 1 and runs.finished()[-1][0] == 3         # the new way's own run
    assert identify(other, company, vault, rows[0][2]) == "outside_scope"


def test_a_claim_no_longer_renewed_is_taken_over_and_the_first_kept_check_stands(app, server, rows, runs, vault,
                                                                                  monkeypatch):
    monkeypatch.setattr(self_check_store, "LEASE", timedelta(seconds=1))
    monkeypatch.setattr(self_check_store, "RENEW_S", 3600.0)           # the first worker hangs: it never renews
    runs.script = light
    company = tenant(app, server, rows, 3)
    assert company.checks().finished.wait(WAIT_S)
    runs.gate = threading.Event()
    assert delete(company.outside, company.keys[2], 1).get_json()["deleted"] is True
    wait_for(lambda: runs.running == 1, "the first worker claimed the new gallery's check and hangs")
    second = Runs()
    second.script = heavy
    other = worker(second)
    assert identify(other, company, vault, rows[0][2]) == "outside_scope"   # the kept (light) check meanwhile
    assert other.self_checks(company.company_id).finished.wait(WAIT_S)     # it took the claim over after the lease
    assert [n for n, _check in second.finished()] == [2]
    assert self_check_store.read(company.company_id).check.calibration == HEAVY
    assert identify(other, company, vault, rows[0][2]) == "none"
    runs.gate.set()                                                      # the first worker wakes, its check done
    assert company.checks().finished.wait(WAIT_S)
    assert company.checks().current.calibration == HEAVY                 # it decides with the one kept first
    assert self_check_store.read(company.company_id).check.calibration == HEAVY
    assert company.inside.identify(rows[0][2]) == "none"


def test_a_kept_value_another_version_wrote_is_replaced(app, server, rows, runs, caplog):
    runs.script = light
    company = tenant(app, server, rows, 3)
    assert company.checks().finished.wait(WAIT_S)
    ran = len(runs.done)
    (FingerprintSelfCheck.update(check_json='{"v": 9, "raw": [0, 1]}')
     .where(FingerprintSelfCheck.company == company.company_id).execute())
    GALLERIES.clear()                                                    # a restart
    assert company.inside.identify(rows[0][2]) == "outside_scope"        # no 500: the table alone until
    assert company.checks().finished.wait(WAIT_S)
    assert len(runs.done) == ran + 1                                     # a check of its own, kept
    assert self_check_store.read(company.company_id).check == company.checks().current
    assert "not usable" in caplog.text


def test_the_store_keeps_the_newest_gallerys_check_and_its_claims(app):
    """The rules of claim / renew / release / keep on a company of their own (digests are plain names here)."""
    company_id = admin.add_company(f"SS{uuid.uuid4().hex[:10]}", "保管株式会社").id
    newer, older = light(range(4)), heavy(range(4))
    assert self_check_store.read(company_id) is None
    b = self_check_store.claim(company_id, "b", 5)
    assert b and self_check_store.claim(company_id, "b", 5) is None    # live: another worker waits for it
    assert self_check_store.claim(company_id, "a", 3) is None          # nor does an older gallery's worker take it
    assert self_check_store.claim(company_id, "b2", 5) is None         # nor another build's digest of the same
    assert self_check_store.claimed_elsewhere(company_id, "b2", 5)     # fingers (no two runs taking turns)
    assert self_check_store.keep(company_id, "b", 5, newer, b)
    a = self_check_store.claim(company_id, "a", 3)                     # the claim ended with the check
    assert a and not self_check_store.keep(company_id, "a", 3, older, a)   # older than the kept: not kept
    kept = self_check_store.read(company_id)
    assert (kept.gallery, kept.data_version, kept.check) == ("b", 5, newer)
    c = self_check_store.claim(company_id, "c", 7)
    assert c and self_check_store.renew(company_id, c)
    d = self_check_store.claim(company_id, "d", 8)                     # a newer gallery's worker takes it over
    assert d and not self_check_store.renew(company_id, c)             # and the older run learns so
    self_check_store.release(company_id, c)                            # its release leaves d's claim alone
    assert self_check_store.claimed_elsewhere(company_id, "d", 8) and self_check_store.renew(company_id, d)
    assert self_check_store.keep(company_id, "d", 8, None, d)          # a gallery too small: the table alone, kept
    kept = self_check_store.read(company_id)
    assert (kept.gallery, kept.check) == ("d", None)
    assert not self_check_store.claimed_elsewhere(company_id, "e", 9)


def test_a_claim_past_its_lease_is_taken_over_and_the_late_release_does_not_end_the_new_one(app, monkeypatch):
    company_id = admin.add_company(f"SL{uuid.uuid4().hex[:10]}", "期限株式会社").id
    hung = self_check_store.claim(company_id, "g", 5)
    monkeypatch.setattr(self_check_store, "LEASE", timedelta(seconds=0))  # as if 120 s had passed unrenewed
    taker = self_check_store.claim(company_id, "g", 5)
    monkeypatch.setattr(self_check_store, "LEASE", timedelta(seconds=120))
    assert hung and taker and taker != hung
    self_check_store.release(company_id, hung)                            # the hung run wakes and stops
    assert self_check_store.claimed_elsewhere(company_id, "g", 5)         # the new run's claim stands
    assert not self_check_store.renew(company_id, hung) and self_check_store.renew(company_id, taker)


def test_a_database_error_while_waiting_is_tried_again_not_a_failed_check(app, server, rows, runs, vault,
                                                                          monkeypatch, caplog):
    """A worker waiting for another's check that meets a database error (here: SQLite's "database is locked"
    once) keeps waiting and takes the check when it is kept; a failed run would leave it on the previous one."""
    runs.script = light
    company = tenant(app, server, rows, 3)
    assert company.checks().finished.wait(WAIT_S)
    runs.script, runs.gate = heavy, threading.Event()
    assert delete(company.outside, company.keys[2], 1).get_json()["deleted"] is True
    wait_for(lambda: runs.running == 1, "the first worker's check of the new gallery holds its claim")
    real, calls = self_check_store.claimed_elsewhere, []

    def locked_once(*args):
        calls.append(args)
        if len(calls) == 1:
            raise pw.OperationalError("database is locked")
        return real(*args)
    monkeypatch.setattr(self_check_store, "claimed_elsewhere", locked_once)
    other = worker(runs)
    assert identify(other, company, vault, rows[0][2]) == "outside_scope"
    wait_for(lambda: len(calls) >= 2, "the waiting worker tried again")
    runs.gate.set()
    assert other.self_checks(company.company_id).finished.wait(WAIT_S)
    assert other.self_checks(company.company_id).current.calibration == HEAVY
    assert identify(other, company, vault, rows[0][2]) == "none"
    assert "database is locked" in caplog.text


def test_a_run_for_a_gallery_already_replaced_never_puts_the_table_alone_in_force(app, server, rows, runs):
    """A run that starts after its gallery was replaced in the cache (its thread is late: nice 19) must not
    return "no check" while its gallery is still the newest attached: that would put the table alone in force."""
    runs.script = light
    company = tenant(app, server, rows, 3)
    checks = company.checks()
    assert checks.finished.wait(WAIT_S)
    in_force = checks.current
    stray = FingerprintIdentifier(Gallery(GALLERIES.identifier(company.company(), TemplateVault(
        FileKeyProvider(server.template_keys)), FingerprintIdentifier).gallery.entries))   # not the cache's
    checks.attach(stray)
    assert not checks.finished.wait(0.5)              # it waits for its gallery to be replaced
    assert checks.current == in_force and stray.self_check == in_force
    assert company.inside.identify(rows[0][2]) == "outside_scope"    # the cache's gallery attached again
    assert checks.finished.wait(WAIT_S) and checks.current == in_force


def test_a_restarted_server_decides_with_the_kept_check_from_its_first_request(app, server, rows, runs, tmp_path):
    """Real processes: another ``kiosk-server serve`` (two gunicorn workers) on the session's database, as after a
    restart. The check kept for the company's gallery demands more than the table (a scripted run in this process
    made it); the new server's first answer is decided with it. Had it run a check of its own instead, 3 fingers
    are too few for one (the table alone) and the genuine finger would be ``outside_scope``."""
    runs.script = heavy
    company = tenant(app, server, rows, 3)
    assert company.checks().finished.wait(WAIT_S)
    assert self_check_store.read(company.company_id).check.calibration == HEAVY
    assert company.inside.identify(rows[0][2]) == "none"
    restarted = ServerProcess(server.db_url, server.db_path, server.directory / "demo" / "tls", free_port(),
                              tmp_path / "restarted.log", template_keys=str(server.template_keys))
    restarted.start()
    try:
        for _ in range(4):                                  # whichever worker answers
            assert identify_over_https(restarted, company.inside, rows[0][2]) == "none"
    finally:
        restarted.stop()


def identify_over_https(process: ServerProcess, kiosk, template) -> str:
    code = base64.b64encode(encode_code(Matcher().encode(template))).decode("ascii")
    body = json.dumps({"code": code}).encode("utf-8")
    path = "/v1/fingerprints/identify"
    headers = sign_request(kiosk.certificate.private_key, kiosk.certificate.key_id, "POST", path, body)
    response = requests.post(process.url.rstrip("/") + path, data=body, verify=process.ca_file, timeout=30,
                             headers={**headers, "Content-Type": "application/json"})
    assert response.status_code == 200, response.text
    return response.json()["match"]
