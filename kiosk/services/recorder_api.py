"""The Recorder API as the services see it: a port and the value types it returns.

The requests + tenacity adapter (``kiosk.adapters.recorder_client``) implements :class:`RecorderApi`; every
failure leaves it as a :class:`kiosk.errors.KioskError` with a catalogue key, never as a library exception.
(These types belong beside the other ports in ``kiosk/ports.py``; they live here until that file is free.)
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable, Protocol

from kiosk.domain.model import Credential, Department, Employee, EmploymentType, Punch, Recorder
from kiosk.errors import KioskError, Situation

if TYPE_CHECKING:   # numpy stays unimported for kiosks without a fingerprint sensor
    from kiosk.fingerprint.template import FingerprintTemplate


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
        """A probe (``kiosk.fingerprint.code_codec.encode_code``) that matched nobody at the kiosk: True when the
        server finds it enrolled for an employee outside this recorder's scope (never says whom)."""

    def close(self) -> None: ...


class MasterStore(Protocol):
    """Applies pulled master data to the kiosk's cache and remembers its version."""

    def current_version(self) -> MasterVersion: ...

    def apply(self, snapshot: MasterSnapshot) -> None: ...


ClientProvider = Callable[[], "RecorderApi | None"]


def online_client(client: ClientProvider, is_online: Callable[[], bool], situation: Situation) -> "RecorderApi":
    """The client for a server-only action (認証登録): ``online_only`` 「この機能はオンライン時のみ利用できます」
    when no connection is configured or the kiosk is offline."""
    current = client()
    if current is None or not is_online():
        raise KioskError("online_only", situation=situation)
    return current


class ClientSlot:
    """The current Recorder API client (None until a connection is configured). 接続先変更 swaps it; the
    sync worker, データ更新 and the time service read it through ``get`` (callable as a provider)."""

    def __init__(self, client: RecorderApi | None = None):
        self._client = client

    def get(self) -> RecorderApi | None:
        return self._client

    __call__ = get

    def set(self, client: RecorderApi | None) -> None:
        old, self._client = self._client, client
        if old is not None and old is not client:
            old.close()
