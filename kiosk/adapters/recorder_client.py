"""The kiosk's Recorder API client: a requests Session with tenacity retries, on top of dakoku_core.protocol.

Signing (``RecorderAuth``), the pinned CA (``verify_setting``) and error bodies (``api_error``) come from
:mod:`dakoku_core.protocol.client`. This adapter adds retries, proxies, timeouts and the translation of every
failure into a catalogue error at this edge (docs/sync.md):

    004 connect_failed       DNS failure, connection refused, network unreachable
    005 timeout              connect or read timeout
    006 tls_or_proxy_failed  TLS handshake/verification failure; proxy failure, including 407
    007 server_error         5xx / unexpected status after retries; a body we cannot read or that does not
                             have the documented shape; the connection reset before any answer
    server_unreachable       004/005/007 connection failures while the server had answered this kiosk
                             within the last 10 minutes (a temporary drop), in the situation's variant; and
                             (variant ``exception``) a connection dropped in the middle of an answer
    009, 012, ...            the catalogue key the server's error body names (403 ip_not_allowed, 401 ...);
                             a 401 certificate_invalid while punching or registering is certificate_invalid_local
    999 unexpected           anything else

The rule and the variants: :mod:`kiosk.adapters.transport_errors` and docs/errors.md.
Retried (exponential backoff with jitter): connection errors, timeouts, 5xx and 429 (honouring
Retry-After). Never: other 4xx, TLS verification failures, proxy failures. ``verify=`` and ``proxies``
are passed so that the pinned CA always wins over $REQUESTS_CA_BUNDLE.
"""
from __future__ import annotations

import base64
import email.utils
import logging
import time
from dataclasses import dataclass
from typing import Callable
from urllib.parse import quote, urlsplit, urlunsplit

import requests
from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt, stop_after_delay
from tenacity.wait import wait_random_exponential

from dakoku_core.domain.model import CANCEL, Correction, Punch
from dakoku_core.errors import KioskError, Situation, unexpected
from dakoku_core.protocol.certificate import RecorderCertificate
from dakoku_core.protocol.client import DEFAULT_TIMEOUT, RecorderClient
from dakoku_core.protocol.connection import ConnectionString
from kiosk.adapters.fingerprint_endpoints import FingerprintEndpoints
from kiosk.adapters.manager_endpoints import ManagerEndpoints
from kiosk.adapters.master_payload import outcomes_from_payload, snapshot_from_payload
from kiosk.adapters.transport_errors import AnswerLog, error_for_response, origin_of, translate_transport_error
from kiosk.ports.recorder_api import MasterSnapshot, PunchOutcome, ServerTime

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 4                 # tries per call, the first included
    max_elapsed: float = 30.0         # seconds: stop retrying after this long
    initial_wait: float = 0.5         # backoff scale (seconds); full jitter
    max_wait: float = 8.0             # cap of one backoff wait
    max_retry_after: float = 30.0     # cap of an honoured Retry-After


class _RetryableStatus(Exception):
    """A 5xx or 429 answer, raised so tenacity can retry it; carries the response."""

    def __init__(self, response: requests.Response):
        super().__init__(f"HTTP {response.status_code}")
        self.response = response


def proxy_url_with_credentials(url: str, username: str = "", password: str = "") -> str:
    """``http://host:port`` plus optional credentials (percent-encoded) as requests expects them."""
    if not url or not username:
        return url
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{quote(username, safe='')}:{quote(password, safe='')}@{host}"
    if parts.port:
        netloc += f":{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def retry_after_seconds(response: requests.Response, now: Callable[[], float] = time.time) -> float | None:
    """Retry-After as seconds (delta-seconds or an HTTP date); None when absent or unreadable."""
    value = (response.headers.get("Retry-After") or "").strip()
    if not value:
        return None
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - now())


def _retryable(exc: BaseException) -> bool:
    if isinstance(exc, _RetryableStatus):
        return True
    if isinstance(exc, (requests.exceptions.SSLError, requests.exceptions.ProxyError)):
        return False            # a wrong CA or proxy setting does not heal by itself within seconds
    return isinstance(exc, (requests.exceptions.ConnectionError, requests.exceptions.Timeout,
                            requests.exceptions.ChunkedEncodingError))


QUESTION_TIMEOUT = (2.0, 3.0)   # (connect, read): a question asked while somebody waits at the sensor


class KioskRecorderClient(FingerprintEndpoints, ManagerEndpoints):
    """Implements :class:`kiosk.ports.recorder_api.RecorderApi` (the fingerprint endpoints come from
    :mod:`kiosk.adapters.fingerprint_endpoints`). Thread-safe enough for one caller per method at a time
    (requests' Session pools connections per host)."""

    def __init__(self, connection: ConnectionString, certificate: RecorderCertificate, *,
                 proxy_url: str = "", proxy_username: str = "", proxy_password: str = "",
                 ca_file: str | None = None, timeout: tuple[float, float] = DEFAULT_TIMEOUT,
                 retry: RetryPolicy = RetryPolicy(), sleep: Callable[[float], None] = time.sleep,
                 session: requests.Session | None = None, answers: AnswerLog | None = None):
        self.connection = connection
        self.answers = answers or AnswerLog()      # the kiosk passes its one log (sync_wiring)
        session = session or requests.Session()
        proxy = proxy_url_with_credentials(proxy_url, proxy_username, proxy_password)
        if proxy:
            # An explicit proxy wins over the environment; without one, HTTPS_PROXY/NO_PROXY apply.
            session.trust_env = False
            session.proxies = {"https": proxy, "http": proxy}
        try:
            self._api = RecorderClient(connection, certificate, ca_file=ca_file, session=session, timeout=timeout)
        except KioskError:
            raise
        except (OSError, ValueError) as exc:
            raise KioskError("certificate_invalid", situation=Situation.CONNECTION_CHANGE, detail=str(exc)) from exc
        self.retry = retry
        self._origin = origin_of(self._api.url(""))
        self._sleep = sleep
        self.attempts = 0            # requests sent (for diagnosis and tests)

    @property
    def origin(self) -> str:
        """``https://host:port`` of the server (remedy pages are served under it)."""
        return self._origin

    # -- the retry loop --------------------------------------------------------------------------
    def _wait(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, _RetryableStatus) and exc.response.status_code in (429, 503):
            after = retry_after_seconds(exc.response)
            if after is not None:
                return min(after, self.retry.max_retry_after)
        return wait_random_exponential(multiplier=self.retry.initial_wait, max=self.retry.max_wait)(state)

    def _send(self, method: str, path: str, **kwargs) -> requests.Response:
        self.attempts += 1
        response = self._api.request(method, path, **kwargs)
        self.answers.answered(self._origin)
        if response.status_code >= 500 or response.status_code == 429:
            response.close()
            raise _RetryableStatus(response)
        return response

    def _call(self, method: str, path: str, situation: Situation | None, attempts: int | None = None,
              **kwargs) -> requests.Response:
        retrying = Retrying(
            stop=stop_after_attempt(attempts or self.retry.attempts) | stop_after_delay(self.retry.max_elapsed),
            wait=self._wait, retry=retry_if_exception(_retryable), reraise=True, sleep=self._sleep)
        try:
            response = retrying(self._send, method, path, **kwargs)
        except _RetryableStatus as exc:
            raise error_for_response(exc.response, situation) from None
        except requests.exceptions.RequestException as exc:
            raise translate_transport_error(exc, situation, self.answers.recently(self._origin)) from exc
        if response.status_code >= 400:
            raise error_for_response(response, situation)
        return response

    def _json(self, response: requests.Response, situation: Situation | None) -> object:
        try:
            return response.json()
        except ValueError as exc:   # includes a body cut short by a dropped connection
            raise KioskError("server_error", situation=situation, detail=f"unreadable body: {exc}"[:300]) from None
        except requests.exceptions.RequestException as exc:
            raise translate_transport_error(exc, situation, self.answers.recently(self._origin)) from exc

    def _guard(self, fn: Callable[[], object], situation: Situation | None):
        try:
            return fn()
        except KioskError:
            raise
        except Exception as exc:  # noqa: BLE001 - the edge: nothing leaves as a library exception
            log.exception("unexpected failure in the Recorder API client")
            raise unexpected(exc, situation) from exc

    # -- endpoints ---------------------------------------------------------------------------------
    def server_time(self, situation: Situation | None = None) -> ServerTime:
        def run() -> ServerTime:
            sent = time.time()
            response = self._call("GET", "v1/time", situation)
            received = time.time()
            body = self._json(response, situation)
            try:
                return ServerTime(float(body["epoch"]), str(body.get("timezone", "")), sent, received)
            except (KeyError, TypeError, ValueError) as exc:
                raise KioskError("server_error", situation=situation, detail=f"bad /v1/time body: {exc}") from None
        return self._guard(run, situation)

    def master_data(self, *, since: int | None = None, etag: str | None = None,
                    situation: Situation | None = Situation.DATA_UPDATE) -> MasterSnapshot | None:
        def run() -> MasterSnapshot | None:
            path = "v1/master" + (f"?since={int(since)}" if since else "")
            headers = {"If-None-Match": etag} if etag else None
            response = self._call("GET", path, situation, headers=headers)
            if response.status_code == 304:
                return None
            return snapshot_from_payload(self._json(response, situation), response.headers.get("ETag", ""),
                                         situation)
        return self._guard(run, situation)

    def upload_punches(self, punches: list[Punch],
                       situation: Situation | None = Situation.PUNCH) -> list[PunchOutcome]:
        def run() -> list[PunchOutcome]:
            body = {"punches": [punch_to_wire(p) for p in punches]}
            response = self._call("POST", "v1/punches", situation, json=body)
            return outcomes_from_payload(self._json(response, situation), situation)
        return self._guard(run, situation)

    def timecard_url(self, employee_key: str, situation: Situation | None = Situation.BROWSER) -> str:
        """A short-lived link to the employee's timecard (タイムカード / 出勤状況)."""
        def run() -> str:
            response = self._call("POST", f"v1/employees/{quote(employee_key, safe='')}/timecard-url", situation,
                                  json={})
            body = self._json(response, situation)
            url = body.get("url") if isinstance(body, dict) else None
            if not isinstance(url, str) or not url.startswith("https://"):
                raise KioskError("server_error", situation=situation, detail="bad timecard-url body")
            return url
        return self._guard(run, situation)

    def register_credential(self, employee_key: str, method: str, ref: str,
                            situation: Situation | None = Situation.REGISTRATION) -> None:
        """Company-wide duplicate checks happen on the server: 409 → credential_duplicate or
        credential_registered_to_employee (with name and code)."""
        def run() -> None:
            self._json(self._call("POST", "v1/credentials", situation,
                                  json={"employee_key": employee_key, "method": method, "ref": ref}), situation)
        self._guard(run, situation)

    def delete_credential(self, method: str, ref: str, situation: Situation | None = Situation.REGISTRATION) -> bool:
        def run() -> bool:
            path = f"v1/credentials/{quote(method, safe='')}/{quote(ref, safe='')}"
            body = self._json(self._call("DELETE", path, situation), situation)
            return bool(isinstance(body, dict) and body.get("deleted"))
        return self._guard(run, situation)

    def register_help(self, employee_key: str, situation: Situation | None = Situation.HELP_REGISTRATION) -> bool:
        """ヘルプ登録 of the employee to this recorder's department; True if it is new."""
        def run() -> bool:
            body = self._json(self._call("POST", "v1/help-registrations", situation,
                                         json={"employee_key": employee_key}), situation)
            return bool(isinstance(body, dict) and body.get("created"))
        return self._guard(run, situation)

    def finger_outside_scope(self, code: bytes, situation: Situation | None = Situation.PUNCH) -> bool:
        """POST /v1/fingerprints/identify: True when the server finds this probe (an MCC cylinder code that matched
        nobody here) enrolled for one employee who may not punch at this recorder's department. One try with short
        timeouts: it runs while somebody waits at the sensor."""
        def run() -> bool:
            text = base64.b64encode(code).decode("ascii")
            body = self._json(self._call("POST", "v1/fingerprints/identify", situation, attempts=1,
                                         json={"code": text}, timeout=QUESTION_TIMEOUT), situation)
            match = body.get("match") if isinstance(body, dict) else None
            if match not in ("outside_scope", "none"):
                raise KioskError("server_error", situation=situation, detail="bad identify body")
            return match == "outside_scope"
        return self._guard(run, situation)

    def close(self) -> None:
        self._api.session.close()


def punch_to_wire(punch: Punch | Correction) -> dict:
    if isinstance(punch, Correction):          # 取り消し: an item of its own (dakoku_core.protocol.schemas.CORRECTION)
        return {"uuid": punch.uuid, "kind": CANCEL, "cancels": punch.cancels, "employee_key": punch.employee_key,
                "stamped_at": punch.stamped_at.isoformat(), "time_source": punch.time_source.value,
                "offline": punch.offline, "recorder_code": punch.recorder_code}
    wire = {"uuid": punch.uuid, "employee_key": punch.employee_key, "kind": punch.kind.value,
            "stamped_at": punch.stamped_at.isoformat(), "time_source": punch.time_source.value,
            "offline": punch.offline, "auth_method": punch.auth_method.value,
            "recorder_code": punch.recorder_code}
    if punch.master_version is not None:       # the server judges it with that version's settings
        wire["master_version"] = punch.master_version
    return wire
