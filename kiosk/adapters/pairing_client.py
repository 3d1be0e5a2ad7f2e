"""The kiosk's side of pairing (dakoku_server.pairing): fetch the server's CA, check it against the check code the
manager typed, then redeem the code over TLS verified against that CA only.

1. ``GET https://<host>/pair/ca`` without TLS verification (the kiosk has no way to verify yet). Nothing secret
   is sent on this connection. The answer is trusted only if the SHA-256 of the CA's DER, in the pairing
   alphabet, starts with the 16-symbol check code: otherwise ``pairing_pin_mismatch`` and nothing more is sent.
2. ``POST https://<host>/pair/redeem`` with the code, verifying the server certificate (chain and host name)
   against that CA alone. A server that cannot show a certificate of that CA is a TLS failure (006).

Transport failures become 004/005/006/007 as for 接続先変更 (kiosk.adapters.transport_errors); refusals carry
their catalogue key in the error body (pairing_code_invalid / _expired / _used, pairing_locked_out, 009). The
redeem is sent once: it is not idempotent (a lost answer means the code was spent; the manager asks for another).
"""
from __future__ import annotations

import hmac
import os
import tempfile
import warnings

import requests
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509 import load_pem_x509_certificate

from kiosk.adapters.recorder_client import proxy_url_with_credentials
from kiosk.adapters.transport_errors import error_for_response, translate_transport_error
from dakoku_core.errors import KioskError, Situation
from dakoku_core.protocol.client import api_error
from dakoku_core.protocol.pairing import CHECK_LENGTH, PairingInput, check_code

TIMEOUT = (5.0, 15.0)
MAX_CA_BYTES = 64 * 1024


class PairingClient:
    def __init__(self, *, proxy_url: str = "", proxy_username: str = "", proxy_password: str = "",
                 timeout: tuple[float, float] = TIMEOUT):
        self.timeout = timeout
        self.session = requests.Session()
        proxy = proxy_url_with_credentials(proxy_url, proxy_username, proxy_password)
        if proxy:
            self.session.trust_env = False
            self.session.proxies = {"https": proxy, "http": proxy}

    def fetch(self, entry: PairingInput, situation: Situation) -> tuple[str, str, str]:
        """(connection string, certificate, the checked CA PEM) for the typed code; KioskError for every failure."""
        try:
            ca_pem = self._checked_ca(entry, situation)
            handle, ca_file = tempfile.mkstemp(prefix="dakoku-pair-ca-", suffix=".pem")
            try:
                with os.fdopen(handle, "w", encoding="ascii") as out:
                    out.write(ca_pem)
                return (*self._redeem(entry, ca_file, situation), ca_pem)
            finally:
                os.unlink(ca_file)
        finally:
            self.session.close()

    def _send(self, method: str, url: str, situation: Situation, **kwargs) -> requests.Response:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")     # urllib3's InsecureRequestWarning for step 1 (checked by hash)
                response = self.session.request(method, url, timeout=self.timeout, **kwargs)
        except requests.exceptions.RequestException as exc:
            raise translate_transport_error(exc, situation) from exc
        if response.status_code == 429 or response.status_code >= 500:
            error = api_error(response, situation)   # a lockout is 429 with its own key
            raise error if error.key == "pairing_locked_out" else error_for_response(response, situation)
        if response.status_code >= 400:
            raise error_for_response(response, situation)
        return response

    def _json(self, response: requests.Response, situation: Situation, *names: str) -> list[str]:
        try:
            body = response.json()
        except (ValueError, requests.exceptions.RequestException) as exc:
            raise KioskError("server_error", situation=situation, detail=f"unreadable body: {exc}"[:300]) from None
        values = [body.get(name) if isinstance(body, dict) else None for name in names]
        if not all(isinstance(v, str) and v for v in values):
            raise KioskError("server_error", situation=situation, detail=f"answer lacks {', '.join(names)}")
        return values

    def _checked_ca(self, entry: PairingInput, situation: Situation) -> str:
        response = self._send("GET", entry.base_url + "pair/ca", situation, verify=False)
        (ca_pem,) = self._json(response, situation, "ca_pem")
        try:
            if len(ca_pem) > MAX_CA_BYTES:
                raise ValueError("too large")
            der = load_pem_x509_certificate(ca_pem.encode("ascii")).public_bytes(Encoding.DER)
        except (ValueError, UnicodeEncodeError) as exc:
            raise KioskError("server_error", situation=situation, detail=f"CA unreadable: {exc}"[:300]) from None
        if not hmac.compare_digest(check_code(der)[:CHECK_LENGTH], entry.check):
            raise KioskError("pairing_pin_mismatch", situation=situation,
                             detail=f"server CA check code {check_code(der)} != typed {entry.check}")
        return ca_pem

    def _redeem(self, entry: PairingInput, ca_file: str, situation: Situation) -> tuple[str, str]:
        response = self._send("POST", entry.base_url + "pair/redeem", situation, verify=ca_file,
                              json={"code": entry.code})
        connection, certificate = self._json(response, situation, "connection_string", "certificate")
        return connection, certificate
