"""Typed kiosk settings, read from a JSON file. A file that cannot be read or fails validation is the
catalogue's 010 (「PC上の設定ファイルから情報を取得できなかった」): the kiosk never guesses."""
from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from kiosk.errors import KioskError, Situation

READER_BACKENDS = ("simulated", "pcsc", "wedge")


def default_data_dir() -> Path:
    """Per-user data directory (XDG): ~/.local/share/dakoku unless DAKOKU_DATA_DIR says otherwise."""
    if os.environ.get("DAKOKU_DATA_DIR"):
        return Path(os.environ["DAKOKU_DATA_DIR"])
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "dakoku"


@dataclass(frozen=True)
class ReaderSettings:
    backend: str = "simulated"
    name_pattern: str = r"(?i)(RC-S300|RC-S380|PaSoRi)"


@dataclass(frozen=True)
class DisplaySettings:
    language: str = "ja"
    fullscreen: bool = True
    width: int = 1280
    height: int = 800
    show_history: bool = True
    confirmation_seconds: float = 3.0   # the confirmation returns to standby by itself
    wait_seconds: float = 20.0          # a chosen punch type waits this long for a credential
    error_seconds: float = 8.0          # errors on the punch path dismiss themselves


@dataclass(frozen=True)
class Settings:
    data_dir: Path = field(default_factory=default_data_dir)
    timezone: str = "Asia/Tokyo"
    reauth_interval_seconds: int = 30   # 同一コードの再認証間隔
    reader: ReaderSettings = field(default_factory=ReaderSettings)
    display: DisplaySettings = field(default_factory=DisplaySettings)
    demo: bool = False

    @property
    def ledger_path(self) -> Path:
        return self.data_dir / "ledger.sqlite3"

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def to_json(self) -> str:
        data = asdict(self)
        data["data_dir"] = str(self.data_dir)
        return json.dumps(data, ensure_ascii=False, indent=2)


def load_settings(path: Path | None, **overrides: object) -> Settings:
    """Settings from ``path`` (missing file: defaults), then ``overrides``; invalid → KioskError 010."""
    data: dict = {}
    if path is not None and Path(path).exists():
        try:
            data = json.loads(Path(path).read_text("utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise _invalid(path, f"cannot read: {exc}") from exc
        if not isinstance(data, dict):
            raise _invalid(path, "top level must be an object")
    data.update({k: v for k, v in overrides.items() if v is not None})
    try:
        settings = _build(data)
        settings.tz  # noqa: B018 - validates the zone name
    except (TypeError, ValueError, ZoneInfoNotFoundError) as exc:
        raise _invalid(path, str(exc)) from exc
    return settings


def _build(data: dict) -> Settings:
    known = {f.name for f in fields(Settings)}
    unknown = set(data) - known
    if unknown:
        raise ValueError(f"unknown settings: {sorted(unknown)}")
    values = dict(data)
    if "data_dir" in values:
        values["data_dir"] = Path(_typed(values["data_dir"], str, "data_dir"))
    values["reader"] = _section(ReaderSettings, values.get("reader", {}), "reader")
    values["display"] = _section(DisplaySettings, values.get("display", {}), "display")
    settings = replace(Settings(), **values)
    _typed(settings.timezone, str, "timezone")
    if not isinstance(settings.reauth_interval_seconds, int) or not 0 <= settings.reauth_interval_seconds <= 3600:
        raise ValueError("reauth_interval_seconds must be an integer from 0 to 3600")
    if settings.reader.backend not in READER_BACKENDS:
        raise ValueError(f"reader.backend must be one of {READER_BACKENDS}")
    if settings.display.language not in ("ja", "en"):
        raise ValueError("display.language must be 'ja' or 'en'")
    return settings


def _section(cls, raw: object, name: str):
    if isinstance(raw, cls):
        return raw
    if not isinstance(raw, dict):
        raise ValueError(f"{name} must be an object")
    defaults = cls()
    for key, value in raw.items():
        if not hasattr(defaults, key):
            raise ValueError(f"unknown setting {name}.{key}")
        expected = type(getattr(defaults, key))
        if expected is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        _typed(value, expected, f"{name}.{key}")
        raw = {**raw, key: value}
    return replace(defaults, **raw)


def _typed(value: object, expected: type, name: str):
    if not isinstance(value, expected) or (expected is not bool and isinstance(value, bool)):
        raise ValueError(f"{name} must be {expected.__name__}, not {type(value).__name__}")
    return value


def _invalid(path: Path | None, why: str) -> KioskError:
    return KioskError("settings_unreadable", situation=Situation.STARTUP, detail=f"{path}: {why}")
