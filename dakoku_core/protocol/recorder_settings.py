"""The recorder settings the attendance server owns: one default for each, shared by server and kiosk.

The reference server stores per-recorder overrides (``kiosk-server recorders set``) over
:data:`DEFAULTS` and sends the merged dict in the master data; the kiosk applies each データ更新's dict and
uses :data:`DEFAULTS` until the first one (the offline demo, a kiosk never synced). docs/settings.md has
the table of which setting lives where. Pure data: no Kivy, Flask or peewee.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta
from types import MappingProxyType
from typing import Mapping

log = logging.getLogger(__name__)

BREAK_LABELS = ("break", "outing")   # 休憩開始/休憩終了 or 外出開始/外出終了

DEFAULTS: Mapping[str, object] = MappingProxyType({
    "reauth_interval_seconds": 60,           # 同一コードの再認証間隔 (0 = off)
    "show_punch_history": True,              # 打刻履歴を表示
    "refresh_interval_minutes": 120,         # データ更新 every 2 hours...
    "refresh_quiet_hours": ("08:00-10:00", "17:00-19:00"),   # ...except during rush hours
    "break_labels": "break",                 # "break" (休憩) or "outing" (外出)
    "sequence_warning": True,                # 打刻時警告: ask before e.g. 退勤 with no 出勤
})


def defaults() -> dict:
    """A fresh, JSON-ready copy of :data:`DEFAULTS` (lists, not tuples)."""
    return {k: list(v) if isinstance(v, tuple) else v for k, v in DEFAULTS.items()}


def _valid(name: str, value: object) -> bool:
    if name == "reauth_interval_seconds" or name == "refresh_interval_minutes":
        low, high = (0, 3600) if name == "reauth_interval_seconds" else (5, 24 * 60)
        return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high
    if name in ("show_punch_history", "sequence_warning"):
        return isinstance(value, bool)
    if name == "break_labels":
        return value in BREAK_LABELS
    if name == "refresh_quiet_hours":
        return isinstance(value, (list, tuple)) and all(isinstance(s, str) and "-" in s for s in value)
    return False


def problem(name: str, value: object) -> str | None:
    """Why ``value`` is not acceptable for setting ``name`` (None: it is); the server's admin CLI asks."""
    if name not in DEFAULTS:
        return f"unknown setting {name!r}; known: {', '.join(DEFAULTS)}"
    if not _valid(name, value):
        return f"{name}: {value!r} is not valid (default {DEFAULTS[name]!r})"
    return None


@dataclass(frozen=True)
class RecorderSettings:
    """The settings as the kiosk uses them. Built from what the server sent: a value that is missing or
    malformed keeps its default (logged), so a newer or broken server never stops the kiosk punching."""

    reauth_interval_seconds: int = DEFAULTS["reauth_interval_seconds"]   # type: ignore[assignment]
    show_punch_history: bool = DEFAULTS["show_punch_history"]            # type: ignore[assignment]
    refresh_interval_minutes: int = DEFAULTS["refresh_interval_minutes"]  # type: ignore[assignment]
    refresh_quiet_hours: tuple = DEFAULTS["refresh_quiet_hours"]         # type: ignore[assignment]
    break_labels: str = DEFAULTS["break_labels"]                         # type: ignore[assignment]
    sequence_warning: bool = DEFAULTS["sequence_warning"]                # type: ignore[assignment]
    # the master-data version these came with (None: the defaults, before the first データ更新); a punch
    # judged with them carries it, so the server judges it with the same settings (issue 9)
    version: int | None = field(default=None, compare=False)

    @classmethod
    def from_dict(cls, raw: Mapping[str, object] | None) -> "RecorderSettings":
        values = {}
        for name, value in (raw or {}).items():
            if name not in DEFAULTS:
                continue   # a setting this kiosk does not know (a newer server): nothing to apply
            if _valid(name, value):
                values[name] = tuple(value) if isinstance(value, list) else value
            else:
                log.warning("recorder setting %s=%r from the server is malformed: default %r kept",
                            name, value, DEFAULTS[name])
        return cls(**values)

    @property
    def reauth_interval(self) -> timedelta:
        return timedelta(seconds=self.reauth_interval_seconds)

    def as_dict(self) -> dict:
        return {name: list(v) if isinstance(v, tuple) else v
                for name, v in ((n, getattr(self, n)) for n in DEFAULTS)}


def punch_label_key(kind: str, break_labels: str) -> str:
    """The UI string key of a punch type's name: the break pair reads 外出開始/外出終了 when the server's
    ``break_labels`` is "outing"."""
    if break_labels == "outing" and kind in ("break_start", "break_end"):
        return "punch.outing_" + kind.split("_", 1)[1]
    return f"punch.{kind}"
