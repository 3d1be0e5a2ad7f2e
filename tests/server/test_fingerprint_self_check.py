"""The server decides ``POST /v1/fingerprints/identify`` with each company's gallery self-check
(dakoku_core.fingerprint.self_check, docs/fingerprint.md § The eighth look), as a kiosk does with its own.

The server's own Flask app (create_app) runs in this process on the session server's database, so that its
``GALLERIES`` (one per process, as per gunicorn worker) can be watched and its run function chosen through the
seam ``GalleryCache.run``: the real ``self_check`` (made to demand more, in one test), or a scripted check (a
light one, or one that demands more), held until released. Requests are signed by real recorder certificates.
Each test has a company of its own (recorder IN asks, employees at OUT are outside its scope). Prints: the base
kind's tuning templates (cached).
"""
from __future__ import annotations

import base64
import json as jsonlib
import threading
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, replace

import pytest

from dakoku_core.fingerprint import FingerprintIdentifier, Matcher
from dakoku_core.fingerprint.calibration import Calibration
from dakoku_core.fingerprint.code_codec import encode_code
from dakoku_core.fingerprint.crypto import FileKeyProvider
from dakoku_core.fingerprint.self_check import MIN_PAIRS, Foreground, SelfCheck, self_check
from dakoku_core.fingerprint.synth.kinds import kind_templates
from dakoku_core.protocol.certificate import parse_certificate
from dakoku_core.protocol.signing import sign_request
from dakoku_server import admin, api_identify, recorders
from dakoku_server.app import ServerConfig, create_app
from dakoku_server.db import Company, Employee, bump_version, write_transaction
from dakoku_server.db import FingerprintTemplate as Row
from dakoku_server.fingerprint_gallery import GALLERIES
from dakoku_server.template_vault import TemplateVault, binding
from tests.server.test_fingerprints import delete, register

pytestmark = pytest.mark.timeout(180)

FINGERS = 25            # x 2 sub-templates; the last registration's check (25 fingers): 50 x 24 = 1,200 pairs
HEAVY = Calibration((0.0, 1000.0), (0.0, 1.0), 0.001)    # strangers as if they reached any genuine level
WAIT_S = 90


@pytest.fixture(scope="module")
def rows():
    """[finger][impression]: impressions 0 and 1 are enrolled, 2 is the genuine probe; the last finger is a
    stranger's."""
    return kind_templates("base", "tuning", FINGERS + 1, impressions=6)


@pytest.fixture(scope="module")
def app(server):
    return create_app(ServerConfig(db_url=server.db_url, template_keys_dir=str(server.template_keys)))


def light(gallery) -> SelfCheck:         # a scripted check that changes no decision here
    return SelfCheck(Calibration((0.0, 200.0), (0.0, 200.0), 1.0), len(gallery), 5000, 0)


def heavy(gallery) -> SelfCheck:
    return SelfCheck(HEAVY, len(gallery), 5000, 0)


class Runs:
    """What GALLERIES' checks run (the seam): the real self_check, made heavy when ``heavy`` (if it gave a check
    at all), or ``script(gallery)`` without searching; held at ``gate``; every run recorded."""

    def __init__(self) -> None:
        self.heavy, self.script = False, None
        self.gate = threading.Event()
        self.gate.set()
        self.done: list[tuple[int, SelfCheck | None, bool]] = []    # (fingers, check, abandoned)
        self._lock, self.running, self.most_at_once = threading.Lock(), 0, 0

    def __call__(self, identifier, *, stop):
        with self._lock:
            self.running += 1
            self.most_at_once = max(self.most_at_once, self.running)
        try:
            return self._run(identifier, stop)
        finally:
            with self._lock:
                self.running -= 1

    def _run(self, identifier, stop):
        gallery = identifier.gallery
        if self.script is not None:
            check = self.script(gallery)
        else:
            check = self_check(identifier, stop=stop)
        assert self.gate.wait(WAIT_S)
        if check is not None and self.heavy:
            check = replace(check, calibration=HEAVY)
        abandoned = bool(stop())
        self.done.append((gallery.pattern_count(), check, abandoned))
        return None if abandoned else check

    def finished(self) -> list[tuple[int, SelfCheck | None]]:
        return [(n, check) for n, check, abandoned in self.done if not abandoned]


@pytest.fixture
def runs(monkeypatch):
    runs = Runs()
    GALLERIES.clear()
    monkeypatch.setattr(GALLERIES, "run", runs)
    yield runs
    runs.gate.set()
    GALLERIES.clear()


class Kiosk:
    """A recorder's signed requests, served in this process by the server's own app."""

    def __init__(self, app, company: Company, department: str, url: str):
        text = recorders.add_recorder(company, f"R{department}", department, server_url=url).text()
        self.certificate, self.http = parse_certificate(text), app.test_client()

    def request(self, method: str, path: str, *, json: object = None):
        path = "/" + path.lstrip("/")
        body = jsonlib.dumps(json).encode("utf-8") if json is not None else b""
        headers = sign_request(self.certificate.private_key, self.certificate.key_id, method, path, body)
        return self.http.open(path, method=method, data=body,
                              headers={**headers, "Content-Type": "application/json"})

    def identify(self, template) -> str:
        code = base64.b64encode(encode_code(Matcher().encode(template))).decode("ascii")
        response = self.request("POST", "v1/fingerprints/identify", json={"code": code})
        assert response.status_code == 200, response.data
        return response.get_json()["match"]


@dataclass
class Tenant:
    company_id: int
    inside: Kiosk           # recorder at IN: asks the server about fingers outside its scope
    outside: Kiosk          # recorder at OUT: registers its employees' fingers
    keys: list[str]         # employee keys, one enrolled finger (number 1) each

    def company(self) -> Company:
        return Company.get_by_id(self.company_id)

    def checks(self):
        return GALLERIES.self_checks(self.company_id)


def tenant(app, server, rows, fingers: int) -> Tenant:
    """A company of its own whose ``fingers`` employees at OUT each enrolled one finger (2 sub-templates), through
    the app's registration endpoint."""
    company = admin.add_company(f"SC{uuid.uuid4().hex[:10]}", "自己照合株式会社")
    admin.add_department(company, "IN", "受付")
    admin.add_department(company, "OUT", "倉庫")
    admin.add_employment_type(company, "FULL", "正社員")
    made = Tenant(company.id, Kiosk(app, company, "IN", server.url), Kiosk(app, company, "OUT", server.url), [])
    for f in range(fingers):
        enrol(made, rows[f])
    return made


def stored(company: Tenant, vault: TemplateVault, fingers) -> None:
    """Employees at OUT with finger 1 stored as the registration endpoint stores it (without its duplicate check,
    a registration's slow part: a test needs only the last registration to go through the endpoint)."""
    matcher = Matcher()
    for impressions in fingers:
        emp = admin.add_employee(company.company(), f"E{len(company.keys):03d}", "照合", "OUT", "FULL",
                                 first_name=str(len(company.keys)))
        bound = binding(company.company().code, emp.key, 1)
        with write_transaction():
            version = bump_version(company.company())
            Row.insert_many([{"company": company.company_id, "employee": emp, "finger": 1, "seq": seq,
                              "version": version, "sealed": vault.seal_template(t, bound),
                              "sealed_code": vault.seal_code(matcher.encode(t), bound)}
                             for seq, t in enumerate(impressions[:2])]).execute()
        company.keys.append(emp.key)


def enrol(company: Tenant, impressions) -> None:
    """A new employee at OUT with finger 1 enrolled from the first two impressions."""
    emp = admin.add_employee(company.company(), f"E{len(company.keys):03d}", "照合", "OUT", "FULL",
                             first_name=str(len(company.keys)))
    response = register(company.outside, emp.key, 1, impressions[0], impressions[1])
    assert response.status_code == 201, response.data
    company.keys.append(emp.key)


def test_a_registration_starts_the_check_and_identify_decides_with_it(app, server, rows, runs):
    """(a) the check runs on a gallery change alone; (b) identify decides with it: a light one keeps a genuine
    match, one that demands more turns the same probe into ``none`` (never anyone's match); (c) the gallery
    after a deletion gets a new one, started by the deletion itself, while the previous stands; (d) after clear()
    (a restart) the kept check decides at once, with no run for the gallery it is of."""
    company = tenant(app, server, rows, 0)
    stored(company, TemplateVault(FileKeyProvider(server.template_keys)), rows[:FINGERS - 1])
    enrol(company, rows[FINGERS - 1])                        # what a registration stores, through the endpoint
    assert company.checks().finished.wait(WAIT_S)           # no identify request yet: the registration started it
    fingers, check = runs.finished()[-1]
    assert fingers == FINGERS and check is not None         # the gallery with the registration's own finger
    assert check.pairs >= MIN_PAIRS and check.probes >= 2 * FINGERS
    assert company.inside.identify(rows[0][2]) == "outside_scope"      # a real (light) check in force
    assert company.inside.identify(rows[FINGERS][2]) == "none"         # a stranger

    runs.script, runs.gate = heavy, threading.Event()       # the next check demands more, and is held
    assert delete(company.outside, company.keys[7], 1).get_json()["deleted"] is True
    assert not company.checks().finished.is_set()           # the deletion started the new gallery's check
    assert company.inside.identify(rows[0][2]) == "outside_scope"      # the previous check stands meanwhile
    runs.gate.set()
    assert company.checks().finished.wait(WAIT_S)
    assert runs.finished()[-1][0] == FINGERS - 1            # the new gallery's, without the deleted finger
    assert company.inside.identify(rows[0][2]) == "none"                # the same probe: refused, not a match
    assert company.inside.identify(rows[7][2]) == "none"                # the deleted finger: nobody

    ran = len(runs.done)
    runs.gate = threading.Event()                            # a run now would hold (and decide nothing meanwhile)
    GALLERIES.clear()                                        # as a restart: the process forgets every check
    assert company.inside.identify(rows[0][2]) == "none"                # the kept one decides from the first request
    assert company.checks().finished.wait(WAIT_S)           # and is this gallery's own: taken without a run
    assert len(runs.done) == ran and runs.running == 0
    runs.gate.set()


def test_a_gallery_too_small_keeps_the_table_alone(app, server, rows, runs):
    """(d) 6 fingers: 12 searches x 5 others = 60 pairs < MIN_PAIRS: no check, even from a run that would make
    any check heavy."""
    runs.heavy = True
    company = tenant(app, server, rows, 6)
    assert company.inside.identify(rows[0][2]) == "outside_scope"
    assert company.checks().finished.wait(WAIT_S)
    assert runs.finished() and all(check is None for _n, check in runs.finished())
    assert company.inside.identify(rows[0][2]) == "outside_scope"
    assert company.inside.identify(rows[2][2]) == "outside_scope"


def test_identify_never_restarts_the_check_on_a_gallery_replaced_meanwhile(app, server, rows, runs, monkeypatch):
    """A request that read the gallery just before another request changed it must not give the check back to
    the older gallery (abandoning the newest one's)."""
    runs.script = light
    company = tenant(app, server, rows, 4)
    assert company.inside.identify(rows[0][2]) == "outside_scope"
    assert company.checks().finished.wait(WAIT_S)
    vault = TemplateVault(FileKeyProvider(server.template_keys))
    real_scope = api_identify.in_scope_keys

    def a_deletion_meanwhile(recorder):                      # another request, between this one's steps
        with write_transaction():
            emp = Employee.get(Employee.key == company.keys[3])
            Row.delete().where((Row.employee == emp) & (Row.finger == 1)).execute()
            bump_version(company.company())
        GALLERIES.gallery(company.company(), vault)
        return real_scope(recorder)
    runs.gate = threading.Event()
    monkeypatch.setattr(api_identify, "in_scope_keys", a_deletion_meanwhile)
    assert company.inside.identify(rows[0][2]) == "outside_scope"
    monkeypatch.setattr(api_identify, "in_scope_keys", real_scope)
    runs.gate.set()
    assert company.checks().finished.wait(WAIT_S)
    newest = GALLERIES.identifier(company.company(), vault, FingerprintIdentifier)
    assert newest.gallery.pattern_count() == 3
    assert newest.self_check is not None and newest.self_check.probes == 2 * 3       # the newest gallery's own
    assert [n for n, _check in runs.finished()][-1] == 3


def test_one_check_runs_at_a_time_in_a_process_whatever_the_companies(app, server, rows, runs):
    """Every registration starts a run (abandoned by the next one) and each company has its own: they take turns
    on one core instead of one thread each at once beside the requests."""
    runs.script, runs.gate = light, threading.Event()
    first, second = tenant(app, server, rows, 3), tenant(app, server, rows[3:], 3)
    assert runs.running == 1                                 # the rest wait their turn
    runs.gate.set()
    assert first.checks().finished.wait(WAIT_S) and second.checks().finished.wait(WAIT_S)
    assert runs.most_at_once == 1
    assert sorted(n for n, check in runs.finished() if check is not None)[-2:] == [3, 3]   # each with all 3 fingers


def test_clear_stops_the_runs_under_way(app, server, rows, runs):
    runs.script, runs.gate = light, threading.Event()
    company = tenant(app, server, rows, 3)                    # its last run holds the turn, waiting at the gate
    GALLERIES.clear()
    runs.gate.set()
    assert company.inside.identify(rows[0][2]) == "outside_scope"
    assert company.checks().finished.wait(WAIT_S)
    assert [n for n, _check in runs.finished()] == [3]       # only the new cache's (cold: all 3 fingers)


class CountedForeground(Foreground):
    decisions = 0

    @contextmanager
    def __call__(self):
        self.decisions += 1
        with super().__call__():
            yield


def test_the_check_waits_while_an_identify_decision_runs(app, server, rows, runs, monkeypatch):
    """The search a kiosk's employee waits for runs in the foreground; a check between its searches waits for it
    (at most LONGEST_PAUSE_S)."""
    monkeypatch.setattr(GALLERIES, "foreground", CountedForeground())
    runs.script, runs.gate = light, threading.Event()
    company = tenant(app, server, rows, 3)                    # its last run is under way, held at the gate
    assert company.inside.identify(rows[0][2]) == "outside_scope"
    assert GALLERIES.foreground.decisions == 1
    with GALLERIES.foreground():                              # a decision under way
        runs.gate.set()
        assert not company.checks().finished.wait(1.0)        # the run waits before its next search
    assert company.checks().finished.wait(WAIT_S)             # and goes on once the decisions are done
