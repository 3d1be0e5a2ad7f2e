from datetime import timedelta, timezone

from kiosk.domain.model import TimeSource
from kiosk.services.clock import KioskClock

JST = timezone(timedelta(hours=9))


def test_offset_source_and_adjusting_flag():
    clock = KioskClock(JST, now=lambda: 1_764_000_000.0)   # 2025-11-24T16:00:00Z
    first = clock.read()
    assert first.at.utcoffset() == timedelta(hours=9) and first.source is TimeSource.LOCAL
    assert first.at.hour == 1 and not first.adjusting
    clock.begin_adjustment()
    assert clock.read().adjusting
    clock.apply(-90.5, TimeSource.NTP)
    after = clock.read()
    assert (after.at - first.at) == timedelta(seconds=-90.5) and after.source is TimeSource.NTP
    assert not after.adjusting
