"""Typed kiosk settings, read from a JSON file. A file that cannot be read or fails validation is the
catalogue's 010 (「PC上の設定ファイルから情報を取得できなかった」): the kiosk never guesses."""
from __future__ import annotations

import json
import logging
import os
import re
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import platformdirs

from dakoku_core.domain.model import PunchKind
from dakoku_core.durable_files import replace_durably
from dakoku_core.domain.modes import AutoMode
from dakoku_core.domain.rules import UNDO_SECONDS_MAX
from dakoku_core.errors import KioskError, Situation

log = logging.getLogger(__name__)
READER_BACKENDS = ("simulated", "pcsc", "wedge")
# Settings the attendance server owns (dakoku_core.protocol.recorder_settings; each データ更新 applies them). Older
# settings files may still hold them: they load, and the value is ignored with a warning (docs/settings.md).
SERVER_OWNED = {("reauth_interval_seconds",): "reauth_interval_seconds",
                ("display", "show_history"): "show_punch_history",
                ("sync", "refresh_interval_minutes"): "refresh_interval_minutes",
                ("sync", "quiet_hours"): "refresh_quiet_hours"}
BREAK_PAIR = ("break_start", "break_end")   # their 休憩/外出 wording is the server's break_labels
FINGERPRINT_BACKENDS = ("none", "simulated", "libfprint")


def default_data_dir() -> Path:
    """Per-user data directory unless DAKOKU_DATA_DIR says otherwise, through platformdirs: on Linux the same
    place as before it ($XDG_DATA_HOME/dakoku, else ~/.local/share/dakoku), on Windows %LOCALAPPDATA%\\dakoku."""
    if os.environ.get("DAKOKU_DATA_DIR"):
        return Path(os.environ["DAKOKU_DATA_DIR"])
    return Path(platformdirs.user_data_dir("dakoku", appauthor=False, roaming=False))


@dataclass(frozen=True)
class ReaderSettings:
    backend: str = "pcsc"             # a real kiosk has a reader; the demo uses "simulated"
    name_pattern: str = r"(?i)RC-S(300|380|660)|PaSoRi"   # = pcsc_reader.DEFAULT_READER_PATTERN


@dataclass(frozen=True)
class FingerprintSettings:
    backend: str = "none"             # "none", "simulated" (the demo) or "libfprint"
    driver: str = ""                  # libfprint driver id ("" = the first image device)
    captures: int = 4                 # impressions per enrolment (3-5)
    capture_timeout_seconds: float = 20.0   # per enrolment capture
    pattern_limit: int = 1000         # enrolled fingers per department (too_many_patterns above it)
    two_factor: bool = False          # ambiguity asks for login ID / employee code, then verifies 1:1
    demo_fingers: int = 3             # demo only: employees whose synthetic fingers are enrolled at start (0-3)


@dataclass(frozen=True)
class DisplaySettings:
    language: str = "ja"
    punch_mode: str = "each_time"       # 都度選択 (each_time) or モード動作 (keep): see docs/settings.md
    auto_modes: list = field(default_factory=list)   # [{"start": "05:00", "end": "12:59", "kind": "clock_in"}]
    labels: dict = field(default_factory=dict)       # {"clock_in": "出社"}; the break pair: the server's break_labels
    hidden: list = field(default_factory=list)       # punch types without a button, e.g. ["break_start"]
    fullscreen: bool = True
    width: int = 1280
    height: int = 800
    show_timecard: bool = True          # the タイムカード button (opens the employee's timecard in the browser)
    browser: str = ""                   # the browser command for タイムカード ("" = find one: docs/settings.md)
    show_help_registration: bool = True # the ヘルプ登録 button (another department's employee registers here)
    confirmation_seconds: float = 3.0   # the confirmation returns to standby by itself
    wait_seconds: float = 20.0          # a chosen punch type waits this long for a credential
    error_seconds: float = 8.0          # errors on the punch path dismiss themselves
    undo_seconds: float = 5.0           # 取り消し offered this long on the confirmation (0: never; at most 15)

    def parsed_auto_modes(self) -> tuple[AutoMode, ...]:
        return tuple(AutoMode.parse(raw) for raw in self.auto_modes)

    def visible_kinds(self) -> list[PunchKind]:
        return [k for k in PunchKind if k.value not in self.hidden]


@dataclass(frozen=True)
class SoundSettings:
    volume: float = 1.0                 # 0.0-1.0 of the tones' own level (設定 › 表示・機器)
    silent: bool = False                # no confirmation or error tone


@dataclass(frozen=True)
class SyncSettings:
    ntp_servers: list = field(default_factory=list)   # ["ntp.example.jp:123"]; none: the server's clock
    upload_interval_seconds: float = 60.0             # outbox retry/heartbeat when idle

    def parsed_ntp_servers(self) -> tuple[tuple[str, int], ...]:
        servers = []
        for entry in self.ntp_servers:
            host, _, port = str(entry).rpartition(":") if ":" in str(entry) else (str(entry), "", "123")
            if not host or not port.isdigit() or not 0 < int(port) < 65536:
                raise ValueError(f"sync.ntp_servers: {entry!r} is not host[:port]")
            servers.append((host, int(port)))
        return tuple(servers)


@dataclass(frozen=True)
class Settings:
    data_dir: Path = field(default_factory=default_data_dir)
    timezone: str = "Asia/Tokyo"
    manager_pin_hash: str = ""          # scrypt (kiosk set-manager-pin); guards 設定 and registration
    reader: ReaderSettings = field(default_factory=ReaderSettings)
    fingerprint: FingerprintSettings = field(default_factory=FingerprintSettings)
    display: DisplaySettings = field(default_factory=DisplaySettings)
    sync: SyncSettings = field(default_factory=SyncSettings)
    sound: SoundSettings = field(default_factory=SoundSettings)
    demo: bool = False
    path: Path | None = field(default=None, compare=False)   # the file these came from (not a setting)

    @property
    def ledger_path(self) -> Path:
        return self.data_dir / "ledger.sqlite3"

    @property
    def fingerprint_keys_dir(self) -> Path:
        """Template keys (0600 files in a 0700 directory), apart from the ledger they protect."""
        return self.data_dir / "keys"

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def to_json(self) -> str:
        data = asdict(self)
        data["data_dir"] = str(self.data_dir)
        del data["path"]
        return json.dumps(data, ensure_ascii=False, indent=2)


def save_settings_value(path: Path, key: str, value: object) -> None:
    """Set one top-level key in the settings file, atomically (the old file stays whole on failure)."""
    try:
        data = json.loads(path.read_text("utf-8")) if path.exists() else {}
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise _invalid(path, f"cannot read: {exc}") from exc
    if not isinstance(data, dict):
        raise _invalid(path, "top level must be an object")
    data[key] = value
    _build(data)   # never write what load_settings would refuse
    path.parent.mkdir(parents=True, exist_ok=True)
    # 0600: the file holds the manager PIN's hash, which a short PIN makes guessable offline.
    replace_durably(path, json.dumps(data, ensure_ascii=False, indent=2).encode("utf-8"), mode=0o600,
                    temp=path.with_suffix(".tmp"))


def load_settings(path: Path | None, **overrides: object) -> Settings:
    """Settings from ``path`` (missing file: defaults), then ``overrides``; invalid → KioskError 010."""
    data: dict = {}
    if path is not None and Path(path).exists():
        try:
            data = json.loads(Path(path).read_text("utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
            raise _invalid(path, f"cannot read: {exc}") from exc
        if not isinstance(data, dict):
            raise _invalid(path, "top level must be an object")
        if "demo" in data:   # demo data replaces the master data: only `kiosk demo` may ask for it
            raise _invalid(path, "'demo' is not a setting (use the kiosk demo command)")
        if "path" in data:
            raise _invalid(path, "'path' is not a setting")
    data.update({k: v for k, v in overrides.items() if v is not None})
    try:
        settings = _build(data)
        settings.tz  # noqa: B018 - validates the zone name
    except (TypeError, ValueError, re.error, ZoneInfoNotFoundError) as exc:
        raise _invalid(path, str(exc)) from exc
    return replace(settings, path=Path(path)) if path is not None else settings


def _without_server_owned(data: dict) -> dict:
    """``data`` without the settings the server owns (each one a logged warning)."""
    data = {k: dict(v) if isinstance(v, dict) else v for k, v in data.items()}
    for path, server_name in SERVER_OWNED.items():
        *sections, name = path
        holder = data.get(sections[0], {}) if sections else data
        if isinstance(holder, dict) and name in holder:
            del holder[name]
            log.warning("settings: %s is the server's recorder setting %s now (set it with `kiosk-server "
                        "recorders set`); the value in the settings file is ignored", ".".join(path), server_name)
    labels = data.get("display", {}).get("labels") if isinstance(data.get("display"), dict) else None
    if isinstance(labels, dict) and set(labels) & set(BREAK_PAIR):
        log.warning("settings: display.labels for %s are ignored: the server's break_labels names the break "
                    "pair (休憩 or 外出)", sorted(set(labels) & set(BREAK_PAIR)))
    return data


def _build(data: dict) -> Settings:
    data = _without_server_owned(data)
    known = {f.name for f in fields(Settings)}
    unknown = set(data) - known
    if unknown:
        raise ValueError(f"unknown settings: {sorted(unknown)}")
    values = dict(data)
    if "data_dir" in values:
        values["data_dir"] = Path(_typed(values["data_dir"], str, "data_dir"))
    values["reader"] = _section(ReaderSettings, values.get("reader", {}), "reader")
    values["fingerprint"] = _section(FingerprintSettings, values.get("fingerprint", {}), "fingerprint")
    values["display"] = _section(DisplaySettings, values.get("display", {}), "display")
    values["sync"] = _section(SyncSettings, values.get("sync", {}), "sync")
    values["sound"] = _section(SoundSettings, values.get("sound", {}), "sound")
    settings = replace(Settings(), **values)
    _typed(settings.timezone, str, "timezone")
    _typed(settings.manager_pin_hash, str, "manager_pin_hash")
    if settings.reader.backend not in READER_BACKENDS:
        raise ValueError(f"reader.backend must be one of {READER_BACKENDS}")
    re.compile(settings.reader.name_pattern)   # re.error: refused like any malformed value
    if settings.display.language not in ("ja", "en"):
        raise ValueError("display.language must be 'ja' or 'en'")
    _check_punch_display(settings.display)
    _check_sync(settings.sync)
    _check_fingerprint(settings.fingerprint)
    if not 0.0 <= settings.sound.volume <= 1.0:
        raise ValueError("sound.volume must be from 0.0 to 1.0")
    return settings


def _check_fingerprint(fp: "FingerprintSettings") -> None:
    if fp.backend not in FINGERPRINT_BACKENDS:
        raise ValueError(f"fingerprint.backend must be one of {FINGERPRINT_BACKENDS}")
    if not 3 <= fp.captures <= 5:
        raise ValueError("fingerprint.captures must be from 3 to 5")
    if not 1 <= fp.capture_timeout_seconds <= 600:
        raise ValueError("fingerprint.capture_timeout_seconds must be from 1 to 600")
    if not 1 <= fp.pattern_limit <= 100_000:
        raise ValueError("fingerprint.pattern_limit must be from 1 to 100000")
    if not 0 <= fp.demo_fingers <= 3:
        raise ValueError("fingerprint.demo_fingers must be from 0 to 3")


def _check_sync(sync: "SyncSettings") -> None:
    sync.parsed_ntp_servers()
    if not 5 <= sync.upload_interval_seconds <= 3600:
        raise ValueError("sync.upload_interval_seconds must be from 5 to 3600")


def _check_punch_display(display: "DisplaySettings") -> None:
    if not (320 <= display.width <= 7680 and 240 <= display.height <= 4320):
        raise ValueError("display.width/height must be a real screen size")
    for name in ("confirmation_seconds", "wait_seconds", "error_seconds"):
        if not 0.5 <= getattr(display, name) <= 600:
            raise ValueError(f"display.{name} must be from 0.5 to 600 seconds")
    if not 0 <= display.undo_seconds <= UNDO_SECONDS_MAX:
        raise ValueError(f"display.undo_seconds must be from 0 (no 取り消し) to {UNDO_SECONDS_MAX} seconds")
    if display.punch_mode not in ("each_time", "keep"):
        raise ValueError("display.punch_mode must be 'each_time' or 'keep'")
    display.parsed_auto_modes()  # raises ValueError when malformed
    kinds = {k.value for k in PunchKind}
    if not set(display.labels) <= kinds or not all(isinstance(v, str) and v.strip() for v in display.labels.values()):
        raise ValueError(f"display.labels maps punch types {sorted(kinds)} to non-empty texts")
    if not set(display.hidden) <= kinds or len(set(display.hidden)) == len(kinds):
        raise ValueError("display.hidden lists punch types, and at least one must stay visible")


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
