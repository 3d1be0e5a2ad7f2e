"""ペアリングコードで設定: the manager types the server address, the pairing code and the server check code (or a
barcode reader types ``dakoku-pair:host:port:CODE:CHECK``); the kiosk fetches its connection string and a new
certificate and applies them through the same 接続先変更 as the manual form (so 000/008/009/012, the unsent-punch
guard and the rollback all apply).

Order: the typed values are checked locally (``pairing_input_invalid``, nothing sent); the fetcher checks the
server's CA against the check code before it sends the code (``pairing_pin_mismatch``); here the certificate
that comes back must carry that same CA, and the connection string must pin it (else ``pairing_pin_mismatch``:
a server that passed the check must not switch the kiosk to another CA). Blocking: call off the UI thread.
"""
from __future__ import annotations

from typing import Callable

from dakoku_core.errors import KioskError, Situation
from kiosk.ports import PairingFetcher
from dakoku_core.protocol.certificate import ca_fingerprint
from dakoku_core.protocol.pairing import PairingInput, parse_input
from kiosk.services.connection_change import ChangeResult, validate_texts


FetcherFactory = Callable[[str], PairingFetcher]          # proxy URL → fetcher
ChangeConnection = Callable[..., ChangeResult]           # (connection, certificate, *, proxy_url) → result


class PairingService:
    def __init__(self, make_fetcher: FetcherFactory, change_connection: ChangeConnection,
                 situation: Callable[[], Situation]):
        self._make_fetcher = make_fetcher
        self._change = change_connection
        self._situation = situation

    def check(self, host: str, code: str, check: str) -> PairingInput:
        """The local check alone (for the form: no network)."""
        return parse_input(host, code, check, self._situation())

    def pair(self, host: str, code: str, check: str, *, proxy_url: str = "") -> ChangeResult:
        situation = self._situation()
        entry = parse_input(host, code, check, situation)
        connection_text, certificate_text, ca_pem = self._make_fetcher(proxy_url.strip()).fetch(entry, situation)
        connection, certificate = validate_texts(connection_text, certificate_text)
        pin = ca_fingerprint(ca_pem)
        if not certificate.ca_pem or ca_fingerprint(certificate.ca_pem) != pin or connection.ca_pin != pin:
            raise KioskError("pairing_pin_mismatch", situation=situation,
                             detail="the provisioning texts do not carry the CA that passed the check code")
        return self._change(connection_text, certificate_text, proxy_url=proxy_url)
