"""When a punch may be stamped (issue 10, items 2 and 9): from one day before the employee's hire date up to
the server's receive time plus the timestamp window (the signing window of dakoku_server.auth).

A stamp outside that range is refused for that punch only, with a catalogue key and a reason word:
- ahead of receive time + window → ``auth_failed`` cause B (the kiosk's clock was wrong or being adjusted),
  reason ``stamped_in_future``;
- before the hire date's eve (or before 1970 when no hire date is set) → ``before_hire_date``, reason
  ``stamped_too_early``.
Years 0001 and 9999 are ordinary inputs here: comparing aware datetimes never overflows, and nothing converts
a stamp to another zone before it is known to lie inside the range.
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from dakoku_core.errors import KioskError

FLOOR = datetime(1970, 1, 2, tzinfo=timezone.utc)
LATEST_VALUE = datetime(9999, 12, 31, 23, 59, 59)
EARLIEST_VALUE = datetime(1, 1, 1)


def parse_stamp(text: str) -> datetime:
    """The stamp as an aware datetime in its own offset; ValueError when it is not ISO 8601 with an offset."""
    stamped = datetime.fromisoformat(text)
    if stamped.tzinfo is None or stamped.utcoffset() is None:
        raise ValueError("stamped_at needs a UTC offset")
    return stamped


def earliest(hired_on: date | None, tz: ZoneInfo) -> datetime:
    if hired_on is None or hired_on <= FLOOR.date() + timedelta(days=1):
        return FLOOR
    return datetime.combine(hired_on - timedelta(days=1), time.min, tzinfo=tz)


def out_of_range(stamped: datetime, hired_on: date | None, tz: ZoneInfo, received: datetime,
                 window_seconds: int) -> KioskError | None:
    """The refusal of a stamp outside [hire date − 1 day, received + window], else None."""
    if stamped > received + timedelta(seconds=window_seconds):
        return KioskError("auth_failed", cause_letter="B", detail="stamped_in_future")
    if stamped < earliest(hired_on, tz):
        return KioskError("before_hire_date", detail="stamped_too_early")
    return None


def naive_utc(stamped: datetime) -> datetime:
    """``stamped`` as naive UTC for storage; a stamp whose UTC falls outside the datetime range is clamped
    (only refused punches can be that far out)."""
    try:
        return stamped.astimezone(timezone.utc).replace(tzinfo=None)
    except OverflowError:
        return LATEST_VALUE if stamped.year > 1 else EARLIEST_VALUE
