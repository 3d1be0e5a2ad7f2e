"""設定 › 表示・機器: the device-owned settings a manager may change at the kiosk, written to the settings file
(kiosk.settings.save_settings_value: validated as a whole, written atomically; a value the file would be refused
for is the catalogue's 010 and nothing is written). No Kivy.

Only what belongs to the device is editable here (docs/settings.md): the names of 出勤/退勤, hidden buttons, the
punch mode and its time-of-day windows, sounds, and the reader and sensor backends. What the server owns
(休憩/外出 wording, 打刻履歴を表示, the re-authentication interval, …) is shown read-only and refused here.
"""
from __future__ import annotations

import json
import logging
import re
from dataclasses import replace
from pathlib import Path
from typing import Callable

from dakoku_core.errors import KioskError
from kiosk.settings import BREAK_PAIR, Settings, save_settings_value

log = logging.getLogger(__name__)
EDITABLE = {"display": {"labels", "hidden", "punch_mode", "auto_modes"}, "sound": {"volume", "silent"},
            "reader": {"backend"}, "fingerprint": {"backend"}}
NEEDS_RESTART = {"reader", "fingerprint"}      # a device adapter is chosen at start (docs/settings.md)
LABEL_CHOICES = {"clock_in": ("出勤", "出社", "始業"), "clock_out": ("退勤", "退社", "終業")}


def settings_error(detail: str) -> KioskError:
    return KioskError("settings_unreadable", detail=detail[:300])


class DeviceSettingsService:
    def __init__(self, current: Callable[[], Settings]):
        self._current = current

    def path(self) -> Path:
        settings = self._current()
        return settings.path or settings.data_dir / "settings.json"

    def change(self, section: str, **values: object) -> Settings:
        """Write ``section.key = value`` for each of ``values`` and return the running settings with them.
        Raises KioskError 010 (nothing written) for a key the kiosk may not set or a value the file refuses."""
        allowed = EDITABLE.get(section, set())
        if not values or not set(values) <= allowed:
            raise settings_error(f"not editable at the kiosk: {section}.{sorted(set(values) - allowed)}")
        labels = values.get("labels")
        if isinstance(labels, dict) and set(labels) & set(BREAK_PAIR):
            raise settings_error("the break pair's names are the server's (break_labels)")
        path = self.path()
        stored = self._stored_section(path, section)
        try:
            save_settings_value(path, section, {**stored, **values})
        except KioskError:
            raise
        except (TypeError, ValueError, re.error) as exc:
            raise settings_error(f"{section}: {exc}") from exc
        except OSError as exc:
            raise settings_error(f"cannot write {path}: {exc}") from exc
        running = self._current()
        log.info("settings: %s.%s changed at the kiosk", section, ",".join(sorted(values)))
        return replace(running, **{section: replace(getattr(running, section), **values)})

    def _stored_section(self, path: Path, section: str) -> dict:
        try:
            data = json.loads(path.read_text("utf-8")) if path.exists() else {}
        except (OSError, UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
            raise settings_error(f"{path}: cannot read: {exc}") from exc
        stored = data.get(section, {}) if isinstance(data, dict) else {}
        if not isinstance(stored, dict):
            raise settings_error(f"{path}: {section} must be an object")
        return stored
