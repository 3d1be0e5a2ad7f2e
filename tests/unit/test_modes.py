from datetime import time

import pytest

from dakoku_core.domain.model import PunchKind
from dakoku_core.domain.modes import AutoMode, auto_kind

MODES = (
    AutoMode.parse({"start": "05:00", "end": "12:59", "kind": "clock_in"}),
    AutoMode.parse({"start": "16:00", "end": "23:59", "kind": "clock_out"}),
    AutoMode.parse({"start": "23:00", "end": "01:59", "kind": "break_start"}),  # shadowed by the one above
)


@pytest.mark.parametrize("at, kind", [
    (time(5, 0), PunchKind.CLOCK_IN), (time(12, 59, 59), PunchKind.CLOCK_IN), (time(13, 0), None),
    (time(4, 59), None), (time(16, 0), PunchKind.CLOCK_OUT), (time(23, 30), PunchKind.CLOCK_OUT),
    (time(0, 30), PunchKind.BREAK_START), (time(2, 0), None),
])
def test_auto_kind_by_time_of_day(at, kind):
    assert auto_kind(MODES, at) is kind


@pytest.mark.parametrize("raw", [
    {"start": "5", "end": "12:59", "kind": "clock_in"},
    {"start": "05:00", "end": "12:59", "kind": "lunch"},
    {"start": "05:00", "end": "12:59"},
    ["05:00", "12:59", "clock_in"],
])
def test_malformed_auto_modes_are_refused(raw):
    with pytest.raises(ValueError):
        AutoMode.parse(raw)
