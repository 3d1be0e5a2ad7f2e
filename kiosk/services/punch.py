"""The punch use case: credential → employee → rules → durable ledger row → confirmation.

The rules are dakoku_core.domain.rules (the server judges with the same module) with the server's recorder settings
of the last データ更新 (``MasterData.recorder_settings``): the re-authentication interval and the sequence
warning (打刻時警告), which raises :class:`SequenceQuestion` instead of recording."""
from __future__ import annotations

import threading
import time
from datetime import timedelta
from typing import Callable

from dakoku_core.domain.credentials import card_ref
from dakoku_core.domain.model import AuthMethod, ClockReading, Employee, Punch, PunchKind, PunchResult, Recorder
from dakoku_core.domain.passwords import verify_password
from dakoku_core.domain.rules import WORK_DAY, PunchContext, check_punch, greeting_key, missing_before
from dakoku_core.errors import KioskError, Situation
from dakoku_core.i18n import tr
from kiosk.ports import Clock, MasterData, PunchLedger
from dakoku_core.protocol.recorder_settings import RecorderSettings, punch_label_key

PUNCH = Situation.PUNCH


class PasswordGuard:
    """Five wrong passwords in a row lock that employee's password punching for a minute: a 4-digit
    PIN at a kiosk in a corridor must not be guessable by trying."""

    MAX_FAILURES, LOCK_SECONDS = 5, 60.0

    def __init__(self, monotonic: Callable[[], float] = time.monotonic):
        self._now = monotonic
        self._failures: dict[str, int] = {}
        self._locked_until: dict[str, float] = {}

    def check(self, key: str, situation: Situation = PUNCH) -> None:
        left = self._locked_until.get(key, 0.0) - self._now()
        if left > 0:
            raise KioskError("password_locked_out", situation=situation, context={"seconds": int(left) + 1})

    def failed(self, key: str) -> None:
        self._failures[key] = self._failures.get(key, 0) + 1
        if self._failures[key] >= self.MAX_FAILURES:
            self._failures[key] = 0
            self._locked_until[key] = self._now() + self.LOCK_SECONDS

    def succeeded(self, key: str) -> None:
        self._failures.pop(key, None)


class SequenceQuestion(KioskError):
    """打刻時警告: the punch does not follow the employee's punches of the work day, and the server's
    ``sequence_warning`` is on. Nothing is recorded yet: the flow asks 「『出勤』の記録がありません。『退勤』処理を
    行ってよろしいですか？」 and calls :meth:`PunchService.confirm` (はい) or :meth:`PunchService.decline` (いいえ)."""

    def __init__(self, *, employee: Employee, kind: PunchKind, method: AuthMethod, clock: ClockReading,
                 missing: PunchKind, break_labels: str):
        super().__init__("sequence_warning", situation=PUNCH, context={
            "missing": tr(punch_label_key(missing.value, break_labels)),
            "kind": tr(punch_label_key(kind.value, break_labels))})
        self.employee, self.kind, self.method, self.clock, self.missing = employee, kind, method, clock, missing


class PunchService:
    """Thread-safe: punches are serialised so the re-authentication interval cannot be raced."""

    def __init__(self, master: MasterData, ledger: PunchLedger, clock: Clock, *,
                 reauth_interval: timedelta | None = None,
                 is_online: Callable[[], bool] = lambda: False, on_recorded: Callable[[], None] = lambda: None,
                 guard: PasswordGuard | None = None):
        self._master = master
        self._ledger = ledger
        self._clock = clock
        # None: the server's recorder setting (the product). A fixed value only for tests and benchmarks.
        self._reauth_interval = reauth_interval
        self._question: SequenceQuestion | None = None   # the one open 打刻時警告 (a kiosk asks one at a time)
        self._is_online = is_online
        self._on_recorded = on_recorded   # e.g. wake the outbox worker
        self._lock = threading.Lock()
        self._made_at: dict[str, float] = {}   # employee key -> boot clock of their last punch here (item 10)
        self._guard = guard or PasswordGuard()   # shared with タイムカード: one lock-out per employee

    def punch_with_card(self, kind: PunchKind, card_id: str) -> PunchResult:
        key = self._master.card_key()
        if key is None:
            raise KioskError("startup_data_missing", situation=PUNCH)
        try:
            ref = card_ref(key, card_id)
        except ValueError as exc:
            raise KioskError("auth_failed", situation=PUNCH, cause_letter="A", credential="card",
                             detail=str(exc)) from exc
        employee = self._master.employee_by_credential(AuthMethod.CARD, ref)
        if employee is None:  # an unregistered card: the device read nothing it knows
            raise KioskError("auth_failed", situation=PUNCH, cause_letter="A", credential="card",
                             detail="card not registered")
        return self._punch(employee, kind, AuthMethod.CARD)

    def find_for_password(self, login_or_code: str) -> Employee:
        """Step one of パスワード認証: who is punching (login ID or employee code)."""
        if not login_or_code.strip():
            raise KioskError("login_id_empty", situation=PUNCH)
        employee = self._master.employee_by_code_or_login(login_or_code)
        if employee is None:
            raise KioskError("employee_not_found", situation=PUNCH)
        if not employee.password_punch_allowed:   # said before the password is typed, not after
            raise KioskError("password_punch_not_allowed", situation=PUNCH)
        return employee

    def punch_with_password(self, kind: PunchKind, login_or_code: str, password: str) -> PunchResult:
        employee = self.find_for_password(login_or_code)
        if not password:
            raise KioskError("password_empty", situation=PUNCH)
        self._guard.check(employee.key)
        if not employee.password_hash or not verify_password(password, employee.password_hash):
            self._guard.failed(employee.key)
            raise KioskError("password_wrong", situation=PUNCH)
        self._guard.succeeded(employee.key)
        return self._punch(employee, kind, AuthMethod.PASSWORD)

    def punch_identified(self, employee: Employee, kind: PunchKind, method: AuthMethod) -> PunchResult:
        """Record a punch for an employee another credential path already identified (e.g. a fingerprint
        match): the same rules, lock and durable write as a card punch."""
        return self._punch(employee, kind, method)

    def confirm(self, question: SequenceQuestion) -> PunchResult:
        """はい to a :class:`SequenceQuestion`: record the punch, stamped when the credential was presented. The
        other rules are checked again against the ledger as it is now (the re-authentication interval still
        applies); the order is not asked again. A question is answered once: a second はい is already_punched."""
        with self._lock:
            if question is not self._question:
                raise KioskError("already_punched", situation=PUNCH,
                                 context={"name": question.employee.display_name})
            self._question = None
            recorder, settings = self._recorder_and_settings()
            self._check(question.employee, question.kind, question.method, question.clock, recorder, settings)
            punch = self._record(question.employee, question.kind, question.method, question.clock, recorder,
                                 settings)
        self._on_recorded()
        return PunchResult(punch, question.employee, greeting_key(question.kind, question.clock.at))

    def forget(self, punch: Punch) -> None:
        """取り消し of ``punch`` (kiosk.services.undo): the re-authentication interval no longer counts it; the
        employee's last punch that counts is read from the ledger again."""
        with self._lock:
            self._made_at.pop(punch.employee_key, None)

    def decline(self, question: SequenceQuestion) -> None:
        """いいえ (or no answer): nothing is recorded."""
        with self._lock:
            if question is self._question:
                self._question = None

    def _punch(self, employee: Employee, kind: PunchKind, method: AuthMethod) -> PunchResult:
        with self._lock:
            recorder, settings = self._recorder_and_settings()
            clock = self._clock.read()
            self._check(employee, kind, method, clock, recorder, settings)
            if settings.sequence_warning:
                earlier = self._ledger.punches_since(employee.key, clock.at - WORK_DAY)
                missing = missing_before(kind, [p.kind for p in earlier])
                if missing is not None:
                    self._question = SequenceQuestion(employee=employee, kind=kind, method=method, clock=clock,
                                                      missing=missing, break_labels=settings.break_labels)
                    raise self._question
            punch = self._record(employee, kind, method, clock, recorder, settings)
        self._on_recorded()
        return PunchResult(punch=punch, employee=employee, greeting_key=greeting_key(kind, clock.at))

    def _recorder_and_settings(self) -> tuple[Recorder, RecorderSettings]:
        recorder = self._master.recorder()
        if recorder is None:
            raise KioskError("startup_data_missing", situation=PUNCH)
        return recorder, self._master.recorder_settings()

    def _check(self, employee: Employee, kind: PunchKind, method: AuthMethod, clock: ClockReading,
               recorder: Recorder, settings: RecorderSettings) -> None:
        """The rules the server applies too, with the server's settings (dakoku_core.domain.rules)."""
        check_punch(employee, PunchContext(
            kind=kind, method=method, clock=clock, recorder_department=recorder.department_code,
            employment_type=self._master.employment_type(employee.employment_type_code),
            help_departments=self._master.help_departments(employee.key),
            last_punch_at=self._last_punch_at(employee.key, clock),
            reauth_interval=settings.reauth_interval if self._reauth_interval is None else self._reauth_interval,
        ))

    def _record(self, employee: Employee, kind: PunchKind, method: AuthMethod, clock: ClockReading,
                recorder: Recorder, settings: RecorderSettings) -> Punch:
        # stamped with the version of the settings that judged it: the server judges it with the same (issue 9)
        punch = Punch(employee_key=employee.key, kind=kind, stamped_at=clock.at, time_source=clock.source,
                      offline=not self._is_online(), auth_method=method, recorder_code=recorder.code,
                      master_version=settings.version)
        self._ledger.record(punch)  # durable, or raises punch_record_failed: nothing is acknowledged
        if clock.monotonic is not None:
            self._made_at[employee.key] = clock.monotonic
        return punch

    def _last_punch_at(self, employee_key: str, clock: ClockReading):
        """The employee's last punch for the re-authentication interval: on the boot clock when this process
        made it (a machine clock jump neither shortens nor stretches the interval), else the ledger's stamp."""
        made = self._made_at.get(employee_key)
        if made is None or clock.monotonic is None:
            return self._ledger.last_punch_at(employee_key)
        return clock.at - timedelta(seconds=clock.monotonic - made)
