"""Ports: every interface the services call, in one place. Adapters implement them; services never import an
adapter, and this package imports only the domain, the protocol and the error catalogue.

- :mod:`kiosk.ports.ledger`: the offline ledger, master data, fingerprint templates, audit log, connection file.
- :mod:`kiosk.ports.recorder_api`: the attendance server (Recorder API) and its value types.
- :mod:`kiosk.ports.devices`: card reader, sound, clock, browser.
- the fingerprint sensor, key provider and minutiae extractor ports stay in :mod:`dakoku_core.fingerprint` (shared with
  the server); they are re-exported here on first use, so importing this package never loads numpy.
"""
from __future__ import annotations

from kiosk.ports.devices import (
    Browser, CardEvent, CardReader, CardType, Clock, ReaderState, ReaderStatus, Sound,
)
from kiosk.ports.ledger import (
    AuditLog, CardCache, CorrectionLedger, DayPunches, FingerCache, FingerprintStore, FingerprintSyncStore,
    MasterData, MasterStore, Outbox, PunchLedger, SettingsFile,
)
from kiosk.ports.recorder_api import (
    ClientProvider, CredentialsApi, PairingFetcher, PresenceApi, RecorderApi,
)

_FINGERPRINT_PORTS = {"FingerprintSensor": "kiosk.fingerprint.sensor", "KeyProvider": "dakoku_core.fingerprint.crypto",
                      "MinutiaeExtractor": "dakoku_core.fingerprint.extractors.base"}

__all__ = ["AuditLog", "Browser", "CardCache", "CardEvent", "CardReader", "CardType", "ClientProvider", "Clock",
           "CorrectionLedger", "CredentialsApi", "DayPunches", "FingerCache", "FingerprintStore",
           "FingerprintSyncStore", "MasterData", "MasterStore", "Outbox", "PairingFetcher", "PresenceApi",
           "PunchLedger", "ReaderState", "ReaderStatus", "RecorderApi", "SettingsFile", "Sound",
           *_FINGERPRINT_PORTS]


def __getattr__(name: str):
    if name in _FINGERPRINT_PORTS:
        import importlib

        return getattr(importlib.import_module(_FINGERPRINT_PORTS[name]), name)
    raise AttributeError(name)
