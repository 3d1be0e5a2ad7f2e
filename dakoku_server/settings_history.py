"""Which recorder settings judge an uploaded punch (issue 9): those the kiosk judged it with.

A punch carries ``master_version``, the master-data version the kiosk had applied when it judged it. The
server judges it with the recorder's settings in effect at that version (the latest history row with version
≤ it, dakoku_server.db.RecorderSettingsVersion; none: the shared defaults, which a kiosk uses before its
first データ更新). A punch without it (an older kiosk) or with a version the company never reached (bogus) is
judged with the current settings, as before. One query per batch loads the whole history.
"""
from __future__ import annotations

import bisect
import json
from datetime import timedelta

from dakoku_server.db import Company, Recorder, RecorderSettingsVersion
from dakoku_server.recorders import DEFAULT_SETTINGS, settings_of

_NAME = "reauth_interval_seconds"


def _interval(settings: dict) -> timedelta:
    return timedelta(seconds=int(settings.get(_NAME, 0)))


class SettingsHistory:
    """A recorder's re-authentication interval by master-data version, loaded once (one query)."""

    def __init__(self, rec: Recorder, company_version: int):
        rows = (RecorderSettingsVersion.select(RecorderSettingsVersion.version, RecorderSettingsVersion.settings_json)
                .where(RecorderSettingsVersion.recorder == rec).order_by(RecorderSettingsVersion.version).tuples())
        self._versions: list[int] = []
        self._intervals: list[timedelta] = []
        for version, text in rows:
            self._versions.append(version)
            self._intervals.append(_interval({**DEFAULT_SETTINGS, **json.loads(text or "{}")}))
        self._company_version = company_version
        self.current = _interval(settings_of(rec))

    @classmethod
    def of(cls, rec: Recorder, comp: Company) -> "SettingsHistory":
        return cls(rec, comp.data_version)

    def interval_at(self, master_version: int | None) -> timedelta:
        """The interval the kiosk judged with at ``master_version`` (None or beyond the company's: current)."""
        if master_version is None or master_version > self._company_version:
            return self.current
        i = bisect.bisect_right(self._versions, master_version)
        return self._intervals[i - 1] if i else _interval(DEFAULT_SETTINGS)

    def widest(self, versions) -> timedelta:
        """The longest interval among ``versions`` (what a batch must load accepted punches for)."""
        return max((self.interval_at(v) for v in versions), default=self.current)
