"""Storage ports: the offline ledger (punches, corrections, the outbox), the cached master data, the sealed
fingerprint templates, the audit log and the connection file. The SQLite adapters (``kiosk.adapters.ledger``,
``kiosk.adapters.connection_file``) implement them; several services take a narrower view of the same store
(:class:`DayPunches`, :class:`CardCache`, :class:`FingerCache`)."""
from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Callable, Collection, Iterable, Protocol, Sequence

from dakoku_core.domain.model import (
    AuthMethod, Correction, Credential, Department, Employee, EmploymentType, Punch, Recorder,
)
from dakoku_core.errors import Situation
from kiosk.ports.recorder_api import (
    ConnectionSettings, FingerprintSnapshot, FingerprintVersion, MasterSnapshot, MasterVersion,
)

if TYPE_CHECKING:
    from dakoku_core.fingerprint.gallery import Gallery
    from dakoku_core.fingerprint.mcc import CylinderCode
    from dakoku_core.fingerprint.template import FingerprintTemplate
    from dakoku_core.protocol.recorder_settings import RecorderSettings


class PunchLedger(Protocol):
    """The offline ledger of punches: a punch is durable when ``record`` returns."""

    def record(self, punch: Punch) -> None:
        """Commit durably, or raise KioskError('punch_record_failed')."""

    def last_punch_at(self, employee_key: str) -> datetime | None: ...

    def punches_since(self, employee_key: str, since: datetime) -> list[Punch]:
        """The employee's punches stamped after ``since``, oldest first, without those the server refused
        (the sequence warning's work day)."""

    def recent_punches(self, limit: int) -> list[Punch]: ...

    def count(self) -> int: ...


class MasterData(Protocol):
    """Cached master data (employees, credentials, departments...) as last pulled from the server."""

    def employee(self, key: str) -> Employee | None: ...

    def employee_by_code_or_login(self, text: str) -> Employee | None: ...

    def employee_by_credential(self, method: AuthMethod, ref: str) -> Employee | None: ...

    def employees(self) -> list[Employee]: ...

    def employment_type(self, code: str) -> EmploymentType | None: ...

    def help_departments(self, employee_key: str) -> frozenset[str]: ...

    def recorder(self) -> Recorder | None: ...

    def departments(self) -> list[Department]: ...

    def card_key(self) -> bytes | None:
        """The company's key for hashing card IDs (dakoku_core.domain.credentials.card_ref)."""

    def recorder_settings(self) -> "RecorderSettings":
        """The server's recorder settings of the last データ更新 (its shared defaults before the first)."""

    def replace_all(self, *, employees: Iterable[Employee], credentials: Iterable[Credential],
                    departments: Iterable[Department], employment_types: Iterable[EmploymentType],
                    help_registrations: Iterable[tuple[str, str]], recorder: Recorder,
                    card_key: bytes) -> None: ...


class FingerprintStore(Protocol):
    """Enrolled fingerprint templates of this kiosk, sealed at rest; read as one in-memory gallery."""

    def gallery(self) -> "Gallery": ...

    def fingers_of(self, employee_key: str) -> set[int]: ...

    def add(self, employee_key: str, finger: int, department_code: str,
            templates: "Sequence[FingerprintTemplate]", codes: "Sequence[CylinderCode] | None" = None) -> None: ...

    def delete(self, employee_key: str, finger: int | None = None) -> int: ...

    def kept_self_check(self) -> str | None: ...

    def keep_self_check(self, text: str | None) -> None: ...


class DayPunches(Protocol):
    """The part of the ledger 出勤状況 reads (kiosk.services.presence)."""

    def punches_since(self, employee_key: str, since: datetime) -> list[Punch]: ...


class CorrectionLedger(Protocol):
    """取り消し's corrections (kiosk.services.undo), in the same ledger as the punches."""

    def record_correction(self, correction: Correction, auth_method: AuthMethod) -> None: ...

    def correction_for(self, punch_uuid: str) -> Correction | None: ...

    def get(self, uuid: str) -> Punch | Correction | None: ...


class Outbox(Protocol):
    """The punches still to upload, and what the server answered (kiosk.services.sync)."""

    def pending_batch(self, limit: int = 500) -> list[Punch]: ...

    def mark(self, *, synced: list[str] = (), rejected: list[tuple[str, str]] = (),
             failed: list[str] = (), error: str = "") -> None: ...

    def counts(self): ...   # -> OutboxCounts(pending, synced, rejected, oldest_pending_at)


class MasterStore(Protocol):
    """Applies pulled master data to the kiosk's cache and remembers its version."""

    def current_version(self) -> MasterVersion: ...

    def apply(self, snapshot: MasterSnapshot) -> None: ...



class CardCache(Protocol):
    """The cached card credentials 認証情報 drops after a deletion on the server."""

    def drop_credential(self, method: AuthMethod, ref: str) -> bool: ...


class FingerCache(Protocol):
    def delete(self, employee_key: str, finger: int | None = None) -> int: ...


class FingerprintSyncStore(Protocol):
    """The fingerprint store as データ更新's fingerprint pull sees it (kiosk.services.fingerprint_sync)."""

    def held_version(self) -> FingerprintVersion: ...

    def apply_snapshot(self, snapshot: FingerprintSnapshot, version: FingerprintVersion,
                       department_of: Callable[[str], str]) -> object: ...

    def prune(self, keep: Collection[str]) -> int: ...


class AuditLog(Protocol):
    """The manager's actions at the kiosk (kiosk.services.manager)."""

    def record(self, action: str, outcome: str, detail: str = "") -> None: ...

    def recent(self, limit: int = 50) -> list: ...


class SettingsFile(Protocol):
    """Where 接続先変更 keeps the connection (kiosk.adapters.connection_file)."""

    def load(self, situation: Situation = ...) -> ConnectionSettings | None: ...

    def save(self, settings: ConnectionSettings, situation: Situation = ...) -> None: ...
