"""The Recorder API port: what the services ask of the attendance server, and the value types it answers with.

The requests + tenacity adapter (``kiosk.adapters.recorder_client`` and its endpoint modules) implements
:class:`RecorderApi`; every failure leaves it as a :class:`dakoku_core.errors.KioskError` with a catalogue key, never as
a library exception. The narrower views some services take (:class:`CredentialsApi`, :class:`PresenceApi`,
:class:`PairingFetcher`) are parts of the same server."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Callable, Protocol

from dakoku_core.domain.model import Credential, Department, Employee, EmploymentType, Punch, PunchKind, Recorder
from dakoku_core.errors import Situation

if TYPE_CHECKING:   # numpy stays unimported for kiosks without a fingerprint sensor
    from dakoku_core.fingerprint.template import FingerprintTemplate
    from dakoku_core.protocol.pairing import PairingInput

REG = Situation.REGISTRATION
MASK_CHARS = 4


@dataclass(frozen=True)
class Tombstone:
    """A deletion after ``since`` in an incremental pull: kind employee | credential | help_registration."""

    kind: str
    key: str
    version: int


@dataclass(frozen=True)
class MasterSnapshot:
    """One master-data answer, already translated into domain objects.

    ``full`` is False for an incremental answer to ``since=N``: then employees, credentials and help
    registrations hold only what changed, ``deleted`` what went away; departments, employment types, the
    recorder and the card key are always complete."""

    version: int
    full: bool
    etag: str
    recorder: Recorder
    card_key: bytes
    departments: tuple[Department, ...]
    employment_types: tuple[EmploymentType, ...]
    employees: tuple[Employee, ...]
    credentials: tuple[Credential, ...]
    help_registrations: tuple[tuple[str, str], ...]
    deleted: tuple[Tombstone, ...] = ()
    recorder_settings: dict = field(default_factory=dict)
    device: str = "card"
    company_timezone: str = ""


@dataclass(frozen=True)
class MasterVersion:
    """What the kiosk holds: the version and ETag of the last master data applied (None: never)."""

    version: int | None = None
    etag: str | None = None


@dataclass(frozen=True)
class ServerFinger:
    """One enrolled finger as the server sends it: its sub-templates, already decoded and checked at the
    adapter (plaintext, in memory only: the store seals them with this kiosk's key)."""

    employee_key: str
    finger: int                 # 0-9
    version: int                # the server's row version (the company data_version when it was registered)
    templates: tuple["FingerprintTemplate", ...]


@dataclass(frozen=True)
class DeletedFinger:
    employee_key: str
    finger: int
    version: int


@dataclass(frozen=True)
class FingerprintSnapshot:
    """One answer of ``GET /v1/fingerprints``: every finger in this recorder's scope (``full``) or those that
    changed after ``since`` (plus harmless over-sending) and the deletions."""

    version: int
    etag: str
    full: bool
    fingers: tuple[ServerFinger, ...] = ()
    deleted: tuple[DeletedFinger, ...] = ()


@dataclass(frozen=True)
class RegisteredFinger:
    """The server's answer to a registration: which finger number it is (the server numbers new fingers) and
    the company data version it was stored at."""

    finger: int
    version: int | None


@dataclass(frozen=True)
class FingerprintVersion:
    """What the kiosk holds: the fingerprint version and ETag last applied, and for which recorder
    (``company/recorder``: another recorder means a full pull)."""

    version: int | None = None
    etag: str | None = None
    scope: str = ""


@dataclass(frozen=True)
class PunchOutcome:
    """The server's answer for one punch. ``recorded`` is ``accepted`` or ``rejected`` (the server's record,
    also for a duplicate); ``error_key`` / ``cause_letter`` say why a punch was rejected."""

    uuid: str
    status: str                 # accepted | duplicate | rejected
    recorded: str               # accepted | rejected
    error_key: str = ""
    cause_letter: str | None = None


@dataclass(frozen=True)
class ServerTime:
    """The server's clock and the machine clock around the request (for the offset)."""

    epoch: float
    timezone: str
    sent_at: float              # machine time.time() just before sending
    received_at: float          # ... and just after the answer arrived

    @property
    def offset(self) -> float:
        """Seconds to add to the machine clock: the server's time at the midpoint of the round trip."""
        return self.epoch - (self.sent_at + self.received_at) / 2

    @property
    def round_trip(self) -> float:
        return self.received_at - self.sent_at


@dataclass(frozen=True)
class ConnectionSettings:
    """What 接続先変更 saves: the two pasted texts and the proxy (kiosk.adapters.connection_file)."""

    connection_string: str
    certificate: str
    proxy_url: str = ""
    proxy_username: str = ""
    proxy_password: str = ""

    def __repr__(self) -> str:   # never log the private key or the proxy password
        return f"ConnectionSettings(connection_string={self.connection_string!r}, proxy_url={self.proxy_url!r})"


class RecorderApi(Protocol):
    def server_time(self, situation: Situation | None = None) -> ServerTime: ...

    def master_data(self, *, since: int | None = None, etag: str | None = None,
                    situation: Situation | None = Situation.DATA_UPDATE) -> MasterSnapshot | None:
        """The master data; None when ``etag`` is still current (304)."""

    def upload_punches(self, punches: list[Punch], situation: Situation | None = None) -> list[PunchOutcome]: ...

    def timecard_url(self, employee_key: str, situation: Situation | None = Situation.BROWSER) -> str: ...

    def register_credential(self, employee_key: str, method: str, ref: str,
                            situation: Situation | None = Situation.REGISTRATION) -> None: ...

    def delete_credential(self, method: str, ref: str,
                          situation: Situation | None = Situation.REGISTRATION) -> bool: ...

    def register_help(self, employee_key: str,
                      situation: Situation | None = Situation.HELP_REGISTRATION) -> bool: ...

    def register_fingerprint(self, employee_key: str, finger: int | None, templates: list[bytes],
                             situation: Situation | None = Situation.REGISTRATION) -> RegisteredFinger:
        """``templates``: ``FingerprintTemplate.to_bytes()`` of each sub-template; ``finger`` None for a new
        finger (the server gives it the lowest free number), else the finger to replace. The server checks
        duplicates company-wide (409 → credential_duplicate / credential_registered_to_employee)."""

    def delete_fingerprint(self, employee_key: str, finger: int,
                           situation: Situation | None = Situation.REGISTRATION) -> bool: ...

    def fingerprints(self, *, since: int | None = None, etag: str | None = None,
                     situation: Situation | None = Situation.DATA_UPDATE) -> FingerprintSnapshot | None:
        """The fingers of this recorder's scope; None when ``etag`` is still current (304)."""

    def finger_outside_scope(self, code: bytes, situation: Situation | None = Situation.PUNCH) -> bool:
        """A probe (``dakoku_core.fingerprint.code_codec.encode_code``) that matched nobody at the kiosk: True when the
        server finds it enrolled for an employee outside this recorder's scope (never says whom)."""

    def close(self) -> None: ...




ClientProvider = Callable[[], "RecorderApi | None"]   # the current client (None: no connection configured)


# -- 設定 › 認証情報 (kiosk.services.credentials) ----------------------------------------------------------------
@dataclass(frozen=True)
class RegisteredCard:
    ref: str                        # the server's card reference (HMAC of the card ID)
    registered_at: datetime | None  # aware (UTC)
    recorder_code: str = ""         # "" : registered by the admin, or before the server recorded it
    recorder_name: str = ""

    @property
    def masked(self) -> str:
        return "…" + self.ref[-MASK_CHARS:]


@dataclass(frozen=True)
class EnrolledFinger:
    finger: int                     # 0-9, as the server numbers them
    registered_at: datetime | None


@dataclass(frozen=True)
class EmployeeCredentials:
    employee: Employee | None       # None in the adapter's answer; the service names the employee
    cards: tuple[RegisteredCard, ...] = ()
    fingers: tuple[EnrolledFinger, ...] = ()


class CredentialsApi(Protocol):
    """The Recorder API calls 認証情報 uses (kiosk.adapters.manager_endpoints)."""

    def employee_credentials(self, employee_key: str, situation: Situation | None = REG) -> EmployeeCredentials: ...

    def delete_employee_card(self, employee_key: str, ref: str, situation: Situation | None = REG) -> bool: ...

    def delete_fingerprint(self, employee_key: str, finger: int, situation: Situation | None = REG) -> bool: ...


# -- 出勤状況 (kiosk.services.presence) ---------------------------------------------------------------------------
@dataclass(frozen=True)
class LastPunch:
    """An employee's last punch of the day as one view saw it, and their first 出勤 of the day."""

    employee_key: str
    kind: PunchKind
    at: datetime                     # aware
    clock_in_at: datetime | None = None
    source: str = "ledger"           # ledger | server


class PresenceApi(Protocol):
    def presence(self, situation: Situation | None = None) -> list[LastPunch]: ...


# -- ペアリングコード (kiosk.services.pairing) ------------------------------------------------------------------------
class PairingFetcher(Protocol):
    def fetch(self, entry: "PairingInput", situation: Situation) -> tuple[str, str, str]:
        """(connection string, certificate text, the CA PEM that passed the check code)."""
