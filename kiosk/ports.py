"""Ports: the interfaces services call. Adapters implement them; services never import an adapter."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import TYPE_CHECKING, Callable, Iterable, Protocol, Sequence

if TYPE_CHECKING:
    from kiosk.errors import KioskError
    from kiosk.fingerprint.gallery import Gallery
    from kiosk.fingerprint.mcc import CylinderCode
    from kiosk.fingerprint.template import FingerprintTemplate
    from kiosk.protocol.recorder_settings import RecorderSettings
from kiosk.domain.model import (
    AuthMethod, ClockReading, Credential, Department, Employee, EmploymentType, Punch, Recorder,
)


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
        """The company's key for hashing card IDs (kiosk.domain.credentials.card_ref)."""

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


class Clock(Protocol):
    def read(self) -> ClockReading: ...


class CardType(str, Enum):
    FELICA = "felica"
    MIFARE = "mifare"
    OTHER = "other"


@dataclass(frozen=True)
class CardEvent:
    """One physical tap: the card's ID (hex, upper case), its type, the reader and when we got it.

    ``received_monotonic`` (``time.monotonic``) is when the reader read the tap, not when the UI saw it: a tap counts
    only if it was read while a screen was waiting for it (kiosk/services/credential_window.py)."""

    card_id: str
    card_type: CardType
    reader: str
    received_monotonic: float   # when the adapter read it (PC/SC state change, wedge Enter, simulated tap)


class ReaderState(str, Enum):
    READY = "ready"
    DISCONNECTED = "disconnected"   # reader vanished or the PC/SC service stopped: retrying
    INIT_FAILED = "init_failed"     # never came up: retrying in the background


@dataclass(frozen=True)
class ReaderStatus:
    state: ReaderState
    reader: str = ""
    detail: str = ""


class CardReader(Protocol):
    """A card reader. Callbacks run on the reader's own thread; the UI bridge moves them onto the UI thread."""

    def start(self, on_card: Callable[[CardEvent], None], on_status: Callable[[ReaderStatus], None],
              on_error: Callable[["KioskError"], None] | None = None) -> None:
        """``on_error`` gets a catalogue error for a tap that could not be read (e.g. card_read_failed)."""

    def stop(self) -> None: ...


class Sound(Protocol):
    def play(self, name: str) -> None: ...
