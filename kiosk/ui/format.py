"""Texts the screens show, computed without Kivy (so they are unit-tested without a window)."""
from __future__ import annotations

from datetime import datetime

from kiosk.domain.model import Punch, PunchKind, TimeSource
from kiosk.i18n import text, tr
from kiosk.ports import ReaderState


_label_overrides: dict[str, str] = {}


def set_kind_labels(labels: dict[str, str]) -> None:
    """The punch types' names: the break pair as the server's break_labels says (休憩/外出), the others as the
    display settings may relabel them (kiosk.ui.app.KioskApp.apply_recorder_settings)."""
    _label_overrides.clear()
    _label_overrides.update(labels)


def kind_label(kind: PunchKind) -> str:
    return _label_overrides.get(kind.value) or tr(f"punch.{kind.value}")


def date_line(at: datetime) -> str:
    names = text("weekday").get()
    width = 1 if len(names) == 7 else 3
    weekday = names[at.weekday() * width:(at.weekday() + 1) * width]
    return tr("date.format", year=at.year, month=at.month, day=at.day, weekday=weekday)


def clock_line(at: datetime) -> str:
    return at.strftime("%H:%M:%S")


def age_text(seconds: float) -> str:
    minutes = int(seconds // 60)
    if minutes < 60:
        return tr("age.minutes", n=max(minutes, 0))
    if minutes < 24 * 60:
        return tr("age.hours", n=minutes // 60)
    return tr("age.days", n=minutes // (24 * 60))


def status_line(*, online: bool, unsent: int, oldest: datetime | None, now: datetime,
                reader: ReaderState | None, source: TimeSource, sensor: str | None = None, refused: int = 0) -> str:
    """One line: online/offline, unsent punches, punches the server refused (送信エラー, when there are any),
    reader state, fingerprint sensor state (when one is configured: "present", "absent" or "failed"), time
    source."""
    parts = [tr("status.online" if online else "status.offline")]
    if unsent and oldest is not None:
        parts.append(tr("status.unsent_oldest", count=unsent, age=age_text((now - oldest).total_seconds())))
    else:
        parts.append(tr("status.unsent", count=unsent))
    if refused:
        parts.append(tr("status.refused", count=refused))
    parts.append(tr(f"status.reader.{reader.value}" if reader else "status.reader.starting"))
    if sensor is not None:
        parts.append(tr(f"status.sensor.{sensor}"))
    parts.append(tr(f"status.time.{source.value}"))
    return "  ·  ".join(parts)


def history_line(punch: Punch, name: str) -> str:
    return f"{punch.stamped_at:%H:%M}  {kind_label(punch.kind)}  {name}"


def without_password(url: str) -> str:
    """A proxy URL as it may be shown on screen: credentials masked."""
    scheme, sep, rest = url.partition("://")
    if sep and "@" in rest.split("/", 1)[0]:
        user = rest.split("@", 1)[0].split(":", 1)[0]
        return f"{scheme}://{user}:***@{rest.split('@', 1)[1]}"
    return url
