"""A recorder's provisioning (its connection string and certificate texts, as an admin hands them over), and a
kiosk client made from it: the kiosk's own ``KioskRecorderClient`` (signed requests, tenacity retries)."""
from __future__ import annotations

from dataclasses import dataclass, replace

from dakoku_core.protocol.certificate import parse_certificate
from dakoku_core.protocol.connection import ConnectionString, parse_connection_string
from kiosk.adapters.recorder_client import KioskRecorderClient, RetryPolicy

FAST_RETRY = RetryPolicy(attempts=4, max_elapsed=10.0, initial_wait=0.02, max_wait=0.1, max_retry_after=5.0)


@dataclass(frozen=True)
class Provisioning:
    """A recorder's connection string and certificate texts."""

    connection_text: str
    certificate_text: str

    @classmethod
    def from_text(cls, text: str) -> "Provisioning":
        """From a recorder's provisioning text (``recorders.add_recorder(...).text()``, a demo's recorder.txt):
        its second line is the connection string, the certificate follows."""
        return cls(text.split("\n")[1].strip(), text[text.index("-----BEGIN"):])

    @property
    def connection(self) -> ConnectionString:
        return parse_connection_string(self.connection_text)

    def at(self, url: str) -> ConnectionString:
        """The same connection, pointed at another address (a fault proxy, a scripted server)."""
        return replace(self.connection, url=url)

    def client(self, url: str | None = None, **kwargs) -> KioskRecorderClient:
        """A kiosk client (FAST_RETRY and short timeouts unless given)."""
        kwargs.setdefault("retry", FAST_RETRY)
        kwargs.setdefault("timeout", (2.0, 3.0))
        connection = self.at(url) if url else self.connection
        return KioskRecorderClient(connection, parse_certificate(self.certificate_text), **kwargs)
