"""Punch by finger and fingerprint enrolment at the kiosk (no Kivy).

Punch: the sensor port captures one impression (on a non-UI thread, until a finger, the timeout or the cancel
event) → minutiae (the extractor; the image is dropped at once) → MCC probe → 1:N identification among the
recorder department's employees (own department plus help-registered ones, from the master data) →
``PunchService.punch_identified`` with ``AuthMethod.FINGERPRINT`` (the card path's rules, lock and durable write).
Errors: no match → ``auth_failed`` A, or C when the server (online) knows the finger for an employee of another
department (docs/fingerprint.md § Cause C for a finger); several employees → ``fingerprint_ambiguous_contact_admin`` (or
``_enter_id`` with the 2-factor setting); more enrolled fingers than the limit → ``too_many_patterns``; sensor
failures as the port raises them.

Enrolment: ``captures`` impressions with feedback after each (unusable ones are retaken, up to twice the number
asked) → ``consolidate`` → duplicate check against every template of this kiosk (``credential_duplicate`` /
``credential_registered_to_employee``) → registration with the server (``POST /v1/fingerprints``: the company-wide
duplicate check, its 409s surface as the same two keys) → the store seals and keeps the sub-templates at once, so the
finger punches here before the next データ更新 brings it to the other kiosks. Online only, like cards: offline →
``online_only`` before any capture is asked for. Deleting a finger: the server first, then this kiosk.
"""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import Callable, Sequence

from dakoku_core.domain.model import AuthMethod, Employee, PunchKind, PunchResult
from dakoku_core.domain.rules import may_punch_at_department
from dakoku_core.errors import KioskError, Situation
from dakoku_core.fingerprint.code_codec import encode_code
from dakoku_core.fingerprint.enroll import CaptureFeedback, assess_capture, check_duplicates, consolidate
from dakoku_core.fingerprint.gallery import Gallery
from dakoku_core.fingerprint.identify import FingerprintIdentifier, Match
from dakoku_core.fingerprint.matcher import Matcher
from dakoku_core.fingerprint.mcc import CylinderCode
from dakoku_core.fingerprint.policy import DEFAULT_PATTERN_LIMIT, Thresholds
from dakoku_core.fingerprint.self_check import BackgroundSelfCheck, SelfCheck, dumps, gallery_digest, loads, self_check
from dakoku_core.fingerprint.extractors.base import MinutiaeExtractor
from kiosk.fingerprint.sensor import FingerprintSensor
from dakoku_core.fingerprint.template import FingerprintTemplate
from kiosk.ports import ClientProvider, FingerprintStore, MasterData
from kiosk.services.punch import PunchService
from kiosk.services.recorder_api import online_client

REG = Situation.REGISTRATION
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class EnrolmentProgress:
    """Shown while enrolling: ``phase`` "place" (waiting for capture ``step`` of ``total``) or "captured"
    (with the capture's quality ``feedback``)."""

    step: int
    total: int
    phase: str
    feedback: CaptureFeedback | None = None


@dataclass(frozen=True)
class EnrolmentResult:
    employee: Employee
    finger: int            # 0-9: which of the employee's enrolled fingers this is
    sub_templates: int


@dataclass(frozen=True)
class SelfCheckState:
    check: SelfCheck | None
    running: bool
    raised_db: float                 # at this recorder's N
    alike: tuple[tuple[Employee | None, int, Employee | None, int], ...]


class FingerprintService:
    def __init__(self, sensor: FingerprintSensor, extractor: MinutiaeExtractor, store: FingerprintStore, master: MasterData, punches: PunchService, *,
                 captures: int = 4, capture_timeout: float = 20.0, pattern_limit: int = DEFAULT_PATTERN_LIMIT,
                 two_factor: bool = False, matcher: Matcher | None = None, thresholds: Thresholds = Thresholds(),
                 client: ClientProvider = lambda: None, is_online: Callable[[], bool] = lambda: False,
                 refresh: Callable[[], object] = lambda: None,
                 self_check_run: Callable[..., SelfCheck | None] = self_check):
        self.sensor, self.extractor, self.store = sensor, extractor, store
        self._client, self._is_online, self._refresh = client, is_online, refresh   # as CardRegistrationService
        self._master, self._punches = master, punches
        self.captures, self.capture_timeout = captures, capture_timeout
        self._pattern_limit, self._two_factor = pattern_limit, two_factor
        self._matcher = matcher or Matcher()
        self._thresholds = thresholds
        self._identifier: FingerprintIdentifier | None = None
        self._identifier_lock = threading.Lock()
        self.self_checks = BackgroundSelfCheck(self_check_run, initial=_kept_check(store), keep=_keeper(store),
                                               digest=gallery_digest)
        self.sensor_error: KioskError | None = None   # the device's last failure, until it answers again
        self._enrol_lock = threading.Lock()

    # -- punch -------------------------------------------------------------------------------------
    def wait_for_finger(self, cancel: threading.Event | None = None, timeout: float | None = None,
                        since: float | None = None) -> CylinderCode:
        """Block (never on the UI thread) until a finger is on the sensor; returns its probe code. Only a finger
        read at or after ``since`` (the screen's wait began; ``None``: now) counts."""
        try:
            capture = self.sensor.capture(timeout, cancel, Situation.PUNCH, since)
        except KioskError as error:
            if error.key != "auth_failed":        # not a mere timeout or cancel: the device failed
                self.sensor_error = error
            raise
        self.sensor_error = None
        with self.self_checks.foreground():      # an employee waits: the gallery's self-check pauses
            return self._matcher.encode(capture.template(self.extractor))

    def punch(self, kind: PunchKind, probe: CylinderCode) -> PunchResult:
        """Identify the probe within the recorder's department and record the punch."""
        try:
            with self.self_checks.foreground():
                match = self.identify(probe)
        except KioskError as error:
            if error.key == "auth_failed" and error.cause_letter == "A" and self._outside_scope(probe):
                raise KioskError("auth_failed", situation=Situation.PUNCH, cause_letter="C",
                                 detail="the server knows this finger for an employee of another department") from None
            raise
        employee = self._master.employee(match.employee_key)
        if employee is None:   # enrolled here, gone from the master data since
            raise KioskError("auth_failed", situation=Situation.PUNCH, cause_letter="A",
                             detail="matched a template of an employee not in the master data")
        return self._punches.punch_identified(employee, kind, AuthMethod.FINGERPRINT)

    def punch_with_finger(self, kind: PunchKind, *, timeout: float | None = None,
                          cancel: threading.Event | None = None) -> PunchResult:
        return self.punch(kind, self.wait_for_finger(cancel, timeout))

    def reopen_sensor(self) -> None:
        """After a device failure or unplug: close and open the sensor again (a re-plugged device is found
        anew); raises the port's ``device_init_failed`` while it is still missing."""
        self.sensor.close()
        try:
            self.sensor.open()
        except KioskError as error:
            self.sensor_error = error
            raise
        self.sensor_error = None

    def employee_for_verify(self, login_or_code: str) -> Employee:
        """2-factor step one (after 「…ログインIDまたは従業員コードを入力…」): who is about to place a finger."""
        if not login_or_code.strip():
            raise KioskError("login_id_empty", situation=Situation.PUNCH)
        employee = self._master.employee_by_code_or_login(login_or_code)
        if employee is None:
            raise KioskError("employee_not_found", situation=Situation.PUNCH)
        return employee

    def punch_verified(self, kind: PunchKind, probe: CylinderCode, employee: Employee) -> PunchResult:
        """2-factor step two: 1:1 verification against that employee's own fingers only, then the punch. An
        employee who may not punch here has no fingers on this kiosk: cause C at once, as for their card."""
        recorder = self._master.recorder()
        if recorder is not None and not may_punch_at_department(employee, recorder.department_code,
                                                                self._master.help_departments(employee.key)):
            raise KioskError("auth_failed", situation=Situation.PUNCH, cause_letter="C",
                             detail="2-factor: the employee's department is not this recorder's")
        with self.self_checks.foreground():
            self._identifier_for(self.store.gallery()).verify(probe, employee.key)
        return self._punches.punch_identified(employee, kind, AuthMethod.FINGERPRINT)

    def _outside_scope(self, probe: CylinderCode) -> bool:
        """A finger that matched nobody here: does the server know it for another department's employee? Online
        only (offline the kiosk cannot know: cause A stays); a failed question is logged and answers no."""
        client = self._client()
        if client is None or not self._is_online():
            return False
        try:
            return bool(client.finger_outside_scope(encode_code(probe), situation=Situation.PUNCH))
        except KioskError as error:
            log.warning("could not ask the server about an unmatched finger: %s", error)
            return False

    def identify(self, probe: CylinderCode) -> Match:
        recorder = self._master.recorder()
        if recorder is None:
            raise KioskError("startup_data_missing", situation=Situation.PUNCH)
        identifier = self._identifier_for(self.store.gallery())
        return identifier.identify(probe, self.candidates(recorder.department_code), two_factor=self._two_factor)

    def candidates(self, department_code: str) -> list[str]:
        """Employees who may punch at this recorder: its department's own and those help-registered to it."""
        return [e.key for e in self._master.employees()
                if may_punch_at_department(e, department_code, self._master.help_departments(e.key))]

    def usage(self) -> tuple[str, int, int]:
        """For 自己診断: the sensor's name, the fingers enrolled in this recorder's scope, and the limit."""
        recorder = self._master.recorder()
        keys = self.candidates(recorder.department_code) if recorder else []
        patterns = self.store.gallery().restricted_to(keys).pattern_count()
        return getattr(self.sensor, "device_name", ""), patterns, self._pattern_limit

    def self_check_state(self) -> SelfCheckState:
        """For 自己診断: the gallery's own strangers' check in force (None: the table alone), whether the newest
        gallery's is still running, by how much it raises this recorder's threshold, and the finger pairs it took
        for one finger, with their employees (None: no longer in the master data)."""
        check, running = self.self_checks.current, self.self_checks.running
        if check is None:
            return SelfCheckState(None, running, 0.0, ())
        recorder = self._master.recorder()
        keys = self.candidates(recorder.department_code) if recorder else []
        gallery = self.store.gallery()
        identifier = self._identifier_for(gallery)
        n = max(gallery.restricted_to(keys).pattern_count(), 1)
        raised = check.raises(identifier.base_calibration, identifier.thresholds.identify(n))
        enrolled = {(e.employee_key, e.finger) for e in gallery.entries}     # not one deleted since the check
        # two of one employee's fingers alike are no ambiguity (a match is decided per employee): not reported
        alike = tuple((self._master.employee(a), fa, self._master.employee(b), fb)
                      for (a, fa), (b, fb) in check.alike if a != b and (a, fa) in enrolled and (b, fb) in enrolled)
        return SelfCheckState(check, running, raised, alike)

    def _identifier_for(self, gallery: Gallery) -> FingerprintIdentifier:
        """The identifier of the store's current gallery, deciding with the gallery's own strangers' tail as well
        (dakoku_core.fingerprint.self_check: the previous gallery's until this one's, run in the background, is
        done)."""
        with self._identifier_lock:
            identifier = self._identifier
            if identifier is None or identifier.gallery is not gallery:
                identifier = FingerprintIdentifier(gallery, self._matcher, thresholds=self._thresholds,
                                                   pattern_limit=self._pattern_limit)
                self.self_checks.attach(identifier)
                self._identifier = identifier
            return identifier

    def warm_up(self) -> None:
        """Build the gallery now (decrypting and encoding every template) rather than at the first punch."""
        self._identifier_for(self.store.gallery())

    # -- enrolment ---------------------------------------------------------------------------------
    def next_finger(self, employee: Employee) -> int:
        used = self.store.fingers_of(employee.key)
        free = [f for f in range(10) if f not in used]
        if not free:
            raise KioskError("enrollment_failed", situation=REG, detail="all ten fingers are enrolled")
        return free[0]

    def available(self) -> None:
        """指紋登録 is refused while offline (「この機能はオンライン時のみ利用できます」)."""
        self._online_client()

    def enrol(self, employee: Employee, *, on_progress: Callable[[EnrolmentProgress], None] = lambda _p: None,
              cancel: threading.Event | None = None, finger: int | None = None) -> EnrolmentResult:
        """Online check and a データ更新 first (the local duplicate check sees the newest fingers), then ``captures``
        usable impressions with feedback after each, then consolidate, register (the server numbers a new
        finger) and store. Each capture takes only a finger read after its own 「n回目: 指を置いてください」: presses
        made before (in 設定, before the enrolment began, between two captures) never fill an enrolment."""
        self._before_enrolment()
        templates: list[FingerprintTemplate] = []
        attempts = 0
        while len(templates) < self.captures:
            attempts += 1
            if attempts > 2 * self.captures:
                raise KioskError("enrollment_failed", situation=REG, detail="too many unusable captures")
            step = len(templates) + 1
            asked = time.monotonic()
            on_progress(EnrolmentProgress(step, self.captures, "place"))
            template = self.sensor.capture(self.capture_timeout, cancel, REG, asked).template(self.extractor)
            feedback = assess_capture(template, step - 1, self._matcher.encode(template))
            on_progress(EnrolmentProgress(step, self.captures, "captured", feedback))
            if feedback.usable:
                templates.append(template)
        if cancel is not None and cancel.is_set():
            raise KioskError("enrollment_cancelled", situation=REG, cause_letter="A", detail="cancelled")
        return self._register(employee, templates, finger)

    def enrol_templates(self, employee: Employee, templates: Sequence[FingerprintTemplate], *,
                        finger: int | None = None) -> EnrolmentResult:
        """Captures already taken: what :meth:`enrol` does after capturing (online only)."""
        self._before_enrolment()
        return self._register(employee, templates, finger)

    def enrol_local(self, employee: Employee, templates: Sequence[FingerprintTemplate]) -> EnrolmentResult:
        """The offline demo's seeding only (there is no server to register with): check against this kiosk, store."""
        with self._enrol_lock:
            finger = self.next_finger(employee)
            enrollment = self._consolidated(employee, templates)
            self.store.add(employee.key, finger, employee.department_code, enrollment.templates, enrollment.codes)
        return EnrolmentResult(employee, finger, len(enrollment.templates))

    def delete_finger(self, employee: Employee, finger: int) -> bool:
        """Remove one enrolled finger: on the server (every kiosk drops it at its next データ更新), then here.
        Online only; False when neither held it."""
        on_server = self._online_client().delete_fingerprint(employee.key, finger, situation=REG)
        return bool(self.store.delete(employee.key, finger)) or bool(on_server)

    @property
    def has_server(self) -> bool:
        """A connection is configured (the offline demo has none)."""
        return self._client() is not None

    def _before_enrolment(self) -> None:
        self._online_client()
        self._refresh()   # a failure is logged there: the server's checks still stand

    def _register(self, employee: Employee, templates: Sequence[FingerprintTemplate],
                  finger: int | None) -> EnrolmentResult:
        """Local duplicate check (fast, no round trip), the server's company-wide one, then store here."""
        client = self._online_client()
        with self._enrol_lock:
            enrollment = self._consolidated(employee, templates)
            # A new finger is numbered by the server, inside its write transaction: this kiosk holds only its
            # department's fingers, so a number chosen here could overwrite one enrolled elsewhere.
            registered = client.register_fingerprint(employee.key, finger,
                                                     [t.to_bytes() for t in enrollment.templates], situation=REG)
            self.store.add(employee.key, registered.finger, employee.department_code, enrollment.templates,
                           enrollment.codes, server_version=registered.version)
        return EnrolmentResult(employee, registered.finger, len(enrollment.templates))

    def _consolidated(self, employee: Employee, templates: Sequence[FingerprintTemplate]):
        enrollment = consolidate(list(templates), self._matcher, self._thresholds)
        employees = {e.key: e for e in self._master.employees()}
        check_duplicates(enrollment, employee.key, self.store.gallery(), employees, self._matcher, self._thresholds)
        return enrollment

    def _online_client(self):
        return online_client(self._client, self._is_online, REG)


def _kept_check(store: FingerprintStore) -> SelfCheck | None:
    """The self-check of the last run, so that a restart does not decide with the table alone until the gallery's
    own check is done again; an unreadable one is dropped (logged): the table alone until then."""
    try:
        text = store.kept_self_check()
        return None if text is None else loads(text)
    except (ValueError, KioskError) as error:
        log.warning("the kept fingerprint self-check is not usable (%s): the table alone until a new one", error)
        return None


def _keeper(store: FingerprintStore) -> Callable[[SelfCheck | None], None]:
    return lambda check: store.keep_self_check(None if check is None else dumps(check))
