"""The kiosk's connection settings in DATA_DIR: connection string, certificate text and proxy.

One JSON file (``connection.json``, mode 0600: the certificate holds the recorder's private key)::

    {"v": 1, "connection_string": "v=1;url=...", "certificate": "-----BEGIN ...", "proxy_url": "",
     "proxy_username": "", "proxy_password": ""}

Written atomically (temp file in the same directory, fsync, rename, fsync of the directory), so a crash
leaves the old file or the new one, never a mix. A file that exists but cannot be read, is not this
shape, or holds a connection string / certificate that no longer parses is ``settings_unreadable`` (010).
"""
from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

from dakoku_core.durable_files import replace_durably
from dakoku_core.errors import KioskError, Situation
from dakoku_core.protocol.certificate import RecorderCertificate, check_pair, parse_certificate
from dakoku_core.protocol.connection import ConnectionString, parse_connection_string
from kiosk.ports.recorder_api import ConnectionSettings

FILE_NAME = "connection.json"
VERSION = 1


def parse_settings(settings: ConnectionSettings) -> tuple[ConnectionString, RecorderCertificate]:
    """Parse both texts (000 / 012 as raised by dakoku_core.protocol) and check they name the same recorder."""
    connection = parse_connection_string(settings.connection_string)
    certificate = parse_certificate(settings.certificate)
    check_pair(connection, certificate)
    return connection, certificate


class ConnectionFile:
    def __init__(self, data_dir: Path, name: str = FILE_NAME):
        self.path = Path(data_dir) / name

    def exists(self) -> bool:
        return self.path.exists()

    def load(self, situation: Situation = Situation.STARTUP) -> ConnectionSettings | None:
        """The saved settings; None when none were ever saved; KioskError 010 when the file is broken."""
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise self._unreadable(f"cannot read: {exc}", situation) from exc
        try:
            data = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            raise self._unreadable(f"not JSON: {exc}", situation) from None
        if not isinstance(data, dict) or data.get("v") != VERSION:
            raise self._unreadable("not a version 1 connection file", situation)
        values = {}
        for name in ("connection_string", "certificate", "proxy_url", "proxy_username", "proxy_password"):
            value = data.get(name, "")
            if not isinstance(value, str):
                raise self._unreadable(f"{name} must be text", situation)
            values[name] = value
        if not values["connection_string"] or not values["certificate"]:
            raise self._unreadable("connection string or certificate missing", situation)
        return ConnectionSettings(**values)

    def load_parsed(self, situation: Situation = Situation.STARTUP
                    ) -> tuple[ConnectionSettings, ConnectionString, RecorderCertificate] | None:
        """Load and parse; a stored text that no longer parses is the file's fault: 010, not 000/012."""
        settings = self.load(situation)
        if settings is None:
            return None
        try:
            connection, certificate = parse_settings(settings)
        except KioskError as exc:
            raise self._unreadable(f"stored {exc.key}: {exc.detail}", situation) from None
        return settings, connection, certificate

    def save(self, settings: ConnectionSettings, situation: Situation = Situation.CONNECTION_CHANGE) -> None:
        payload = json.dumps({"v": VERSION, **asdict(settings)}, ensure_ascii=False, indent=1).encode("utf-8")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            replace_durably(self.path, payload, mode=0o600)
        except OSError as exc:
            raise KioskError("settings_unreadable", situation=situation, detail=f"{self.path}: cannot write: {exc}") from exc

    def _unreadable(self, why: str, situation: Situation) -> KioskError:
        return KioskError("settings_unreadable", situation=situation, detail=f"{self.path}: {why}")
