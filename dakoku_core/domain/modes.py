"""Punch-type modes: モード動作 (the kiosk keeps waiting with one punch type) and automatic switching by
time of day (e.g. 05:00–12:59 出勤), so that people in a hurry only tap their card."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import time

from dakoku_core.domain.model import PunchKind


@dataclass(frozen=True)
class AutoMode:
    start: time
    end: time           # inclusive; a window may wrap past midnight (e.g. 22:00–04:59)
    kind: PunchKind

    def covers(self, at: time) -> bool:
        at = at.replace(second=0, microsecond=0, tzinfo=None)
        if self.start <= self.end:
            return self.start <= at <= self.end
        return at >= self.start or at <= self.end

    @classmethod
    def parse(cls, raw: dict) -> "AutoMode":
        """From settings: {"start": "05:00", "end": "12:59", "kind": "clock_in"}; ValueError if malformed."""
        if not isinstance(raw, dict) or set(raw) != {"start", "end", "kind"}:
            raise ValueError("an auto mode needs exactly start, end and kind")
        return cls(time.fromisoformat(str(raw["start"])), time.fromisoformat(str(raw["end"])),
                   PunchKind(raw["kind"]))


def auto_kind(modes: tuple[AutoMode, ...], at: time) -> PunchKind | None:
    """The punch type the time of day selects, or None (the person chooses)."""
    for mode in modes:
        if mode.covers(at):
            return mode.kind
    return None
