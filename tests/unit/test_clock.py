"""KioskClock: the measured time carried on the boot clock, so machine clock jumps move nothing; a stale
measurement falls back to the machine clock labelled local; jumps are noticed; the adjusting state."""
from datetime import timedelta, timezone

from dakoku_core.domain.model import TimeSource
from kiosk.services.clock import KioskClock, MachineClockPort

JST = timezone(timedelta(hours=9))
T0 = 1_764_000_000.0   # 2025-11-24T16:00:00Z


def make(fresh_for: float = 3600.0):
    port = MachineClockPort(wall=T0)
    return port, KioskClock(JST, now=port.wall, monotonic=port.boot)


def test_local_until_measured_then_offset_source_and_adjusting():
    port, clock = make()
    first = clock.read()
    assert first.at.utcoffset() == timedelta(hours=9) and first.source is TimeSource.LOCAL
    assert first.at.hour == 1 and not first.adjusting and first.monotonic == port.boot()
    clock.begin_adjustment()
    assert clock.read().adjusting
    clock.apply(-90.5, TimeSource.NTP)
    after = clock.read()
    assert (after.at - first.at) == timedelta(seconds=-90.5) and after.source is TimeSource.NTP
    assert not after.adjusting and clock.offset == timedelta(seconds=-90.5)


def test_machine_clock_jumps_do_not_move_a_measured_time():
    port, clock = make()
    clock.apply(0.0, TimeSource.SERVER)
    port.run(10)
    port.jump(86_400)                      # someone sets the machine a day ahead
    assert clock.epoch() == T0 + 10 and clock.read().source is TimeSource.SERVER
    assert clock.offset == timedelta(seconds=-86_400)
    port.run(5)
    port.jump(-86_400 - 3600)              # ... and then an hour behind
    assert clock.epoch() == T0 + 15 and clock.offset == timedelta(seconds=3600)


def test_a_stale_measurement_is_dropped_and_labelled_local():
    port, clock = make()
    clock.apply(-86_400, TimeSource.SERVER, fresh_for=600)
    port.run(600)
    assert clock.read().source is TimeSource.SERVER and clock.epoch() == T0 - 86_400 + 600
    port.run(1)
    reading = clock.read()
    assert reading.source is TimeSource.LOCAL and reading.at.timestamp() == port.wall()
    assert clock.measured_source() is TimeSource.LOCAL


def test_local_source_drops_the_anchor():
    port, clock = make()
    clock.apply(50.0, TimeSource.NTP)
    clock.apply(0.0, TimeSource.LOCAL)
    port.jump(30)
    assert clock.epoch() == port.wall() and clock.read().source is TimeSource.LOCAL


def test_jumps_are_noticed_in_both_directions_but_not_running_time():
    port, clock = make()
    assert clock.jumped() == 0.0           # the first call sets the baseline
    port.run(3600)
    assert clock.jumped() == 0.0
    port.jump(1.5)                          # below the 2 s threshold: slewing, not a jump
    assert clock.jumped() == 0.0
    port.jump(86_400)
    assert clock.jumped() == 86_400
    assert clock.jumped() == 0.0
    port.jump(-3600)
    assert clock.jumped() == -3600


def test_a_step_whose_confirmation_fails_applies_the_first_answer_and_ends_adjusting():
    from kiosk.services.recorder_api import ClientSlot
    from kiosk.services.time_sync import TimeSyncService

    port, clock = make()
    answers = iter([100.0, OSError("NTP timed out")])
    seen_adjusting = []

    def query(host, port_, timeout):
        seen_adjusting.append(clock.read().adjusting)
        answer = next(answers)
        if isinstance(answer, Exception):
            raise answer
        return answer

    sync = TimeSyncService(clock, ClientSlot(None), ntp_servers=(("ntp.invalid", 123),), ntp_query=query)
    result = sync.sync_once()
    assert seen_adjusting == [False, True]           # the confirming query ran while punches were refused
    assert result.source is TimeSource.NTP and result.offset == 100.0 and sync.steps == 1
    assert not clock.read().adjusting and clock.read().source is TimeSource.NTP


def test_an_unexpected_failure_while_confirming_never_leaves_the_clock_adjusting():
    from kiosk.services.recorder_api import ClientSlot
    from kiosk.services.time_sync import TimeSyncService

    port, clock = make()
    answers = iter([100.0, RuntimeError("bug")])

    def query(host, port_, timeout):
        answer = next(answers)
        if isinstance(answer, Exception):
            raise answer
        return answer

    sync = TimeSyncService(clock, ClientSlot(None), ntp_servers=(("ntp.invalid", 123),), ntp_query=query)
    try:
        sync.sync_once()
    except RuntimeError:
        pass
    assert not clock.read().adjusting
