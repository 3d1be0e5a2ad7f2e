"""A minimal signed Recorder API client (kiosk side), built on ``requests``.

:class:`RecorderAuth` signs every request as it is sent, so a retried request (tenacity in the real
kiosk client) gets a fresh timestamp and nonce. :class:`RecorderClient` adds the base URL, the pinned CA
and one method per endpoint; it returns ``requests.Response`` objects and leaves retries and the mapping of
transport errors (004/005/006) to the kiosk's sync adapter. :func:`api_error` turns an error response into
the catalogue error it carries.
"""
from __future__ import annotations

import hashlib
import json as jsonlib
import os
import tempfile
from urllib.parse import urljoin, urlsplit

import requests
from requests.auth import AuthBase

from dakoku_core.errors import KioskError, Situation
from dakoku_core.protocol.certificate import RecorderCertificate, ca_fingerprint
from dakoku_core.protocol.connection import ConnectionString
from dakoku_core.protocol.error_body import error_from_body
from dakoku_core.protocol.signing import sign_request

DEFAULT_TIMEOUT = (5.0, 20.0)  # connect, read (seconds)


class RecorderAuth(AuthBase):
    """requests auth hook: adds the X-Dakoku-* signature headers to each prepared request."""

    def __init__(self, certificate: RecorderCertificate):
        self.certificate = certificate

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        parts = urlsplit(request.url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        body = request.body or b""
        if isinstance(body, str):
            body = body.encode("utf-8")
        request.headers.update(sign_request(self.certificate.private_key, self.certificate.key_id,
                                            request.method, path, body))
        return request


def write_ca_file(certificate: RecorderCertificate, directory: str | None = None) -> str | None:
    """Write the certificate's CA (if any) to a file requests can verify with; None means system CAs."""
    if not certificate.ca_pem:
        return None
    digest = hashlib.sha256(certificate.ca_pem.encode("ascii")).hexdigest()[:16]
    path = os.path.join(directory or tempfile.gettempdir(), f"dakoku-ca-{digest}.pem")
    if not os.path.exists(path):
        tmp = f"{path}.{os.getpid()}.tmp"
        with open(tmp, "w", encoding="ascii") as handle:
            handle.write(certificate.ca_pem)
        os.replace(tmp, path)
    return path


def verify_setting(connection: ConnectionString, certificate: RecorderCertificate,
                   ca_file: str | None = None) -> str | bool:
    """What to pass as requests' ``verify``: the pinned CA file, or True (system CAs). Never False."""
    if ca_file:
        return ca_file
    if connection.ca_pin and ca_fingerprint(certificate.ca_pem) != connection.ca_pin:
        raise KioskError("certificate_invalid", detail="CA pin mismatch")
    return write_ca_file(certificate) or True


class RecorderClient:
    def __init__(self, connection: ConnectionString, certificate: RecorderCertificate, *,
                 ca_file: str | None = None, session: requests.Session | None = None,
                 timeout: tuple[float, float] = DEFAULT_TIMEOUT):
        self.connection = connection
        self.session = session or requests.Session()
        self.session.auth = RecorderAuth(certificate)
        # Passed with every request: a session-level ``verify`` loses to $REQUESTS_CA_BUNDLE in requests.
        self.verify = verify_setting(connection, certificate, ca_file)
        self.timeout = timeout

    def url(self, path: str) -> str:
        return urljoin(self.connection.base_url, path.lstrip("/"))

    def request(self, method: str, path: str, *, json: object = None, headers: dict | None = None,
                data: bytes | None = None, timeout: tuple[float, float] | None = None) -> requests.Response:
        """``timeout``: (connect, read) for this request only (default: the client's)."""
        if json is not None:
            data = jsonlib.dumps(json, ensure_ascii=False).encode("utf-8")
            headers = {"Content-Type": "application/json", **(headers or {})}
        return self.session.request(method, self.url(path), data=data, headers=headers,
                                    timeout=timeout or self.timeout, verify=self.verify)

    def server_time(self) -> requests.Response:
        return self.request("GET", "v1/time")

    def master_data(self, since: int | None = None, etag: str | None = None) -> requests.Response:
        path = "v1/master" + (f"?since={int(since)}" if since else "")
        return self.request("GET", path, headers={"If-None-Match": etag} if etag else None)

    def upload_punches(self, punches: list[dict]) -> requests.Response:
        return self.request("POST", "v1/punches", json={"punches": punches})

    def register_credential(self, employee_key: str, method: str, ref: str) -> requests.Response:
        return self.request("POST", "v1/credentials",
                            json={"employee_key": employee_key, "method": method, "ref": ref})

    def delete_credential(self, method: str, ref: str) -> requests.Response:
        return self.request("DELETE", f"v1/credentials/{method}/{ref}")

    def register_help(self, employee_key: str, department_code: str | None = None) -> requests.Response:
        body = {"employee_key": employee_key}
        if department_code:
            body["department_code"] = department_code
        return self.request("POST", "v1/help-registrations", json=body)

    def timecard_url(self, employee_key: str, ttl_seconds: int | None = None) -> requests.Response:
        body = {} if ttl_seconds is None else {"ttl_seconds": ttl_seconds}
        return self.request("POST", f"v1/employees/{employee_key}/timecard-url", json=body)


def api_error(response: requests.Response, situation: Situation | None = None) -> KioskError:
    """The catalogue error an error response carries; ``server_error`` (007) if it carries none."""
    try:
        body = response.json()
    except ValueError:
        body = None
    error = error_from_body(body, situation)
    if error is None:
        return KioskError("server_error", situation=situation, detail=f"HTTP {response.status_code}")
    return error
