"""Master data as last pulled from the server (or seeded by the demo), cached in the ledger file and,
for reads, in memory."""
from __future__ import annotations

import json
import logging
import threading
from dataclasses import dataclass, replace
from typing import Iterable

from kiosk.adapters.ledger.db import LedgerDatabase, translated
from kiosk.adapters.ledger.models import (
    CredentialRow, DepartmentRow, EmployeeRow, EmploymentTypeRow, HelpRegistrationRow, MetaRow,
)
from dakoku_core.domain.model import AuthMethod, Credential, Department, Employee, EmploymentType, Recorder
from dakoku_core.errors import Situation
from dakoku_core.protocol.recorder_settings import RecorderSettings

META_SETTINGS = "recorder_settings"   # the server's recorder settings of the last データ更新 (JSON)
# ... and the master-data version they came with (written with them; before it existed: "master_version")
META_SETTINGS_VERSION = "recorder_settings_version"

_EMPLOYEE_FIELDS = ("key", "code", "login_id", "last_name", "first_name", "kana", "department_code",
                    "employment_type_code", "hired_on", "retired_on", "password_punch_allowed", "password_hash")


@dataclass(frozen=True)
class _Snapshot:
    """All cached master data in memory: the punch path does no master-data query."""

    employees: dict[str, Employee]
    by_code: dict[str, Employee]
    by_login: dict[str, Employee]
    credentials: dict[tuple[str, str], str]
    employment_types: dict[str, EmploymentType]
    help: dict[str, frozenset[str]]
    departments: list[Department]
    recorder: Recorder | None
    card_key: bytes | None
    recorder_settings: RecorderSettings


class SqliteMasterData:
    """Reads come from an in-memory snapshot, loaded once and swapped whole after each replace_all."""

    def __init__(self, ledger: LedgerDatabase):
        self._ledger = ledger
        self._snapshot: _Snapshot | None = None
        self._lock = threading.Lock()

    @translated
    def _snap(self) -> _Snapshot:
        snapshot = self._snapshot
        if snapshot is None:
            with self._lock:
                if self._snapshot is None:
                    self._snapshot = _load_snapshot()
                snapshot = self._snapshot
        return snapshot

    # -- reads --------------------------------------------------------------------------------
    def employee(self, key: str) -> Employee | None:
        return self._snap().employees.get(key)

    def employee_by_code_or_login(self, text: str) -> Employee | None:
        text = text.strip()
        snap = self._snap()
        return snap.by_code.get(text) or snap.by_login.get(text) if text else None

    def employee_by_credential(self, method: AuthMethod, ref: str) -> Employee | None:
        snap = self._snap()
        key = snap.credentials.get((method.value, ref))
        return snap.employees.get(key) if key else None

    def employees(self) -> list[Employee]:
        return sorted(self._snap().employees.values(), key=lambda e: e.code)

    def employment_type(self, code: str) -> EmploymentType | None:
        return self._snap().employment_types.get(code)

    def help_departments(self, employee_key: str) -> frozenset[str]:
        return self._snap().help.get(employee_key, frozenset())

    def departments(self) -> list[Department]:
        return list(self._snap().departments)

    def recorder(self) -> Recorder | None:
        return self._snap().recorder

    def card_key(self) -> bytes | None:
        return self._snap().card_key

    def recorder_settings(self) -> RecorderSettings:
        """As the last データ更新 brought them; the shared defaults before the first (offline demo)."""
        return self._snap().recorder_settings

    def drop_credential(self, method: AuthMethod, ref: str) -> bool:
        """Forget one credential at once (deleted on the server by 設定 › 認証情報): it stops punching before the
        next データ更新 brings its tombstone. True if it was held."""
        with self._ledger.writing(Situation.REGISTRATION):
            dropped = CredentialRow.delete().where((CredentialRow.method == method.value)
                                                   & (CredentialRow.ref == ref)).execute()
        fresh = self._reload()
        with self._lock:
            self._snapshot = fresh
        return bool(dropped)

    # -- replace (データ更新) --------------------------------------------------------------------
    def replace_all(self, *, employees: Iterable[Employee], credentials: Iterable[Credential],
                    departments: Iterable[Department], employment_types: Iterable[EmploymentType],
                    help_registrations: Iterable[tuple[str, str]], recorder: Recorder,
                    card_key: bytes, recorder_settings: dict | None = None,
                    settings_version: int | None = None) -> None:
        """Swap the whole cached master data in one transaction: readers see old or new, never a mix.
        ``recorder_settings``: the server's, as sent (None keeps those held: the demo seed has none), and
        ``settings_version`` the master-data version they came with (punches judged by them carry it)."""
        with self._ledger.writing(Situation.DATA_UPDATE):
            for model in (CredentialRow, HelpRegistrationRow, EmployeeRow, EmploymentTypeRow, DepartmentRow):
                model.delete().execute()
            _insert_many(DepartmentRow, [{"code": d.code, "name": d.name} for d in departments])
            _insert_many(EmploymentTypeRow, [
                {"code": t.code, "name": t.name, "break_punch_allowed": t.break_punch_allowed}
                for t in employment_types])
            _insert_many(EmployeeRow, [{f: getattr(e, f) for f in _EMPLOYEE_FIELDS} for e in employees])
            _insert_many(CredentialRow, [
                {"method": c.method.value, "ref": c.ref, "employee_key": c.employee_key} for c in credentials])
            _insert_many(HelpRegistrationRow, [
                {"employee_key": k, "department_code": d} for k, d in help_registrations])
            recorder_json = json.dumps({"code": recorder.code, "company_code": recorder.company_code,
                                        "department_code": recorder.department_code})
            MetaRow.replace(key="recorder", value=recorder_json).execute()
            MetaRow.replace(key="card_key", value=card_key.hex()).execute()
            if recorder_settings is not None:
                MetaRow.replace(key=META_SETTINGS,
                                value=json.dumps(recorder_settings, ensure_ascii=False)).execute()
                MetaRow.delete().where(MetaRow.key == META_SETTINGS_VERSION).execute()
                if settings_version is not None:
                    MetaRow.replace(key=META_SETTINGS_VERSION, value=str(settings_version)).execute()
        fresh = self._reload()   # built here, on the updating thread: a punch never pays for the reload
        with self._lock:
            self._snapshot = fresh

    @translated
    def _reload(self) -> "_Snapshot":
        return _load_snapshot()


def _load_snapshot() -> _Snapshot:
    with EmployeeRow._meta.database.atomic():   # one read transaction: never half old, half new data
        return _read_snapshot()


def _read_snapshot() -> _Snapshot:
    shared: dict = {}   # one object per distinct value (docs/performance.md: memory)
    employees = {e.key: e for e in (_to_employee(r, shared) for r in EmployeeRow.select())}
    help_map: dict[str, set[str]] = {}
    for row in HelpRegistrationRow.select():
        help_map.setdefault(row.employee_key, set()).add(row.department_code)
    meta = {r.key: r.value for r in MetaRow.select()}
    return _Snapshot(
        employees=employees,
        by_code={e.code: e for e in employees.values()},
        by_login={e.login_id: e for e in employees.values() if e.login_id},
        credentials={(shared.setdefault(r.method, r.method), r.ref): shared.get(r.employee_key, r.employee_key)
                     for r in CredentialRow.select()},
        employment_types={r.code: EmploymentType(r.code, r.name, bool(r.break_punch_allowed))
                          for r in EmploymentTypeRow.select()},
        help={k: frozenset(v) for k, v in help_map.items()},
        departments=[Department(r.code, r.name) for r in DepartmentRow.select().order_by(DepartmentRow.code)],
        recorder=Recorder(**json.loads(meta["recorder"])) if "recorder" in meta else None,
        card_key=bytes.fromhex(meta["card_key"]) if "card_key" in meta else None,
        recorder_settings=_recorder_settings(meta.get(META_SETTINGS),
                                             meta.get(META_SETTINGS_VERSION, meta.get("master_version"))),
    )


def _recorder_settings(text: str | None, version: str | None) -> RecorderSettings:
    """The stored settings with their version. None stored: the defaults, which the server takes for
    version 0 (a recorder's settings history starts at its creation)."""
    if text is None:
        return RecorderSettings(version=0)
    try:
        settings = RecorderSettings.from_dict(json.loads(text) if text else None)
    except (ValueError, TypeError, AttributeError):   # a damaged row: the shared defaults, said in the log
        logging.getLogger(__name__).warning("stored recorder settings unreadable: %r", text)
        return RecorderSettings()
    return replace(settings, version=int(version)) if version is not None and version.isdigit() else settings


def _insert_many(model, rows: list[dict], batch: int = 500) -> None:
    for start in range(0, len(rows), batch):
        model.insert_many(rows[start:start + batch]).execute()


_SHARED_FIELDS = ("key", "department_code", "employment_type_code", "hired_on", "retired_on")


def _to_employee(row: EmployeeRow | None, shared: dict | None = None) -> Employee | None:
    """``shared``: the snapshot's values seen so far. Ten thousand employees have a few departments, employment
    types and hire dates; each row read made them new objects, and the credentials' employee keys repeated them."""
    if row is None:
        return None
    values = {f: getattr(row, f) for f in _EMPLOYEE_FIELDS}
    values["password_punch_allowed"] = bool(values["password_punch_allowed"])
    if shared is not None:
        for field in _SHARED_FIELDS:
            value = values[field]
            if value is not None:
                values[field] = shared.setdefault(value, value)
    return Employee(**values)
