"""Time: NTP (a tiny SNTP responder whose clock is off by a known amount, queried with ntplib), then the
server's clock when NTP is unreachable, then the local clock; the offset lands in KioskClock."""
from __future__ import annotations

import threading
import time
from zoneinfo import ZoneInfo

import pytest

from dakoku_core.domain.model import TimeSource
from kiosk.services.clock import KioskClock, MachineClockPort
from kiosk.services.recorder_api import ClientSlot
from kiosk.services.time_sync import TimeSyncService

from tests.support.server_process import free_port
from tests.support.sntp import SntpResponder

pytestmark = pytest.mark.timeout(60)
SKEW = 37.25


@pytest.fixture
def sntp():
    responder = SntpResponder(SKEW)
    try:
        yield responder
    finally:
        responder.close()


def unreachable_ntp() -> tuple[str, int]:
    return ("127.0.0.1", free_port())        # UDP port with nobody listening


def test_ntp_first(sync_server, sntp):
    clock = KioskClock(ZoneInfo("Asia/Tokyo"))
    service = TimeSyncService(clock, ClientSlot(sync_server.demo.client()), ntp_servers=(("127.0.0.1", sntp.port),))
    result = service.sync_once()
    # 37 s is a step: a second answer confirms it before it is applied
    assert result.source is TimeSource.NTP and abs(result.offset - SKEW) < 0.05 and sntp.queries == 2
    assert service.steps == 1
    reading = clock.read()
    assert reading.source is TimeSource.NTP and not reading.adjusting
    assert abs(reading.at.timestamp() - (time.time() + SKEW)) < 0.1


def test_server_when_ntp_is_unreachable_then_local(sync_server):
    port = MachineClockPort()
    clock = KioskClock(ZoneInfo("Asia/Tokyo"), now=time.time, monotonic=port.boot)
    slot = ClientSlot(sync_server.demo.client())
    changes = []
    service = TimeSyncService(clock, slot, ntp_servers=(unreachable_ntp(),), ntp_timeout=0.3, hold=60.0,
                              on_change=changes.append)
    result = service.sync_once()
    assert result.source is TimeSource.SERVER and abs(result.offset) < 0.5      # same machine: ~0
    assert clock.read().source is TimeSource.SERVER
    slot.set(sync_server.demo.client("https://127.0.0.1:9/"))                  # the server is gone too
    assert service.sync_once().source is TimeSource.SERVER                     # still fresh: kept
    port.run(61)                                                                # ... and now stale
    result = service.sync_once()
    assert (result.source, result.offset) == (TimeSource.LOCAL, 0.0) and "connect_failed" in result.detail
    assert clock.read().source is TimeSource.LOCAL
    assert [c.source for c in changes] == [TimeSource.SERVER, TimeSource.SERVER, TimeSource.LOCAL]


def test_last_good_offset_is_held_for_a_while(sntp):
    clock = KioskClock(ZoneInfo("Asia/Tokyo"))
    servers = [("127.0.0.1", sntp.port)]
    service = TimeSyncService(clock, ClientSlot(None), ntp_servers=servers, ntp_timeout=0.3, hold=3600)
    assert service.sync_once().source is TimeSource.NTP
    service.ntp_servers = (unreachable_ntp(),)
    held = service.sync_once()
    assert held.source is TimeSource.NTP and abs(held.offset - SKEW) < 0.05 and "kept" in held.detail


def test_background_thread_never_blocks_the_caller(sntp):
    clock = KioskClock(ZoneInfo("Asia/Tokyo"))
    service = TimeSyncService(clock, ClientSlot(None), ntp_servers=(unreachable_ntp(), ("127.0.0.1", sntp.port)),
                              ntp_timeout=0.5, interval=60)
    started = time.monotonic()
    service.start()
    assert time.monotonic() - started < 0.1           # start() returns at once; the query runs on its thread
    end = time.monotonic() + 5
    while clock.read().source is not TimeSource.NTP and time.monotonic() < end:
        time.sleep(0.02)
    service.stop()
    assert clock.read().source is TimeSource.NTP
    assert not any(t.name == "kiosk-time-sync" for t in threading.enumerate())
