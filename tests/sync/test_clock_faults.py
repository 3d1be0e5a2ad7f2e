"""Clock faults with real peers: a slow SNTP source while the kiosk steps its time (認証に失敗しました B from
the real adjusting state), signatures with the corrected time against the reference server after the machine
clock jumped a day, a clock skew refusal that asks for a re-sync, and a jump noticed on the tick."""
from __future__ import annotations

import threading
import time
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest

from kiosk.adapters.ledger import SqliteMasterData, SqlitePunchLedger
from kiosk.adapters.ledger.outbox import SqliteOutbox
from dakoku_core.demo import demo_card, seed_demo
from dakoku_core.domain.model import PunchKind, TimeSource
from dakoku_core.errors import KioskError
from dakoku_core.protocol import signing
from kiosk.services.clock import KioskClock, MachineClockPort
from kiosk.services.punch import PunchService
from kiosk.services.recorder_api import ClientSlot
from kiosk.services.sync import SyncService
from kiosk.services.time_sync import TimeSyncService
from tests.support.sntp import SntpResponder

from .conftest import make_punches

pytestmark = pytest.mark.timeout(60)
TOKYO = ZoneInfo("Asia/Tokyo")


def test_a_punch_while_the_time_is_stepped_is_auth_failed_b_then_accepted(ledger_db):
    """The machine clock is an hour behind NTP: the first answer says the kiosk's time must step, the
    confirming answer is slow; a card punch meanwhile is refused with cause B, afterwards it is stamped
    with the new time and labelled ntp."""
    sntp = SntpResponder(3600.0, hold_from=2)
    clock = KioskClock(TOKYO)
    master, punches = SqliteMasterData(ledger_db), SqlitePunchLedger(ledger_db)
    seed_demo(master, clock.read().at.date())
    service = PunchService(master, punches, clock, reauth_interval=timedelta(seconds=30))
    sync = TimeSyncService(clock, ClientSlot(None), ntp_servers=(("127.0.0.1", sntp.port),), ntp_timeout=20)
    worker = threading.Thread(target=sync.sync_once)
    try:
        worker.start()
        assert sntp.held.wait(10)                       # the confirming query is being answered slowly
        reading = clock.read()
        assert reading.adjusting and reading.source is TimeSource.LOCAL
        with pytest.raises(KioskError) as refused:
            service.punch_with_card(PunchKind.CLOCK_IN, demo_card("normal").card_id)
        assert (refused.value.key, refused.value.cause_letter) == ("auth_failed", "B")
        assert refused.value.message() == "認証に失敗しました" and punches.count() == 0
        sntp.release()
        worker.join(20)
        assert not worker.is_alive() and not clock.read().adjusting and sync.steps == 1
        result = service.punch_with_card(PunchKind.CLOCK_IN, demo_card("normal").card_id)
        assert result.punch.time_source is TimeSource.NTP
        assert abs(result.punch.stamped_at.timestamp() - (time.time() + 3600)) < 1.0
        assert punches.count() == 1
    finally:
        sntp.close()
        worker.join(5)


def test_small_corrections_are_applied_without_adjusting():
    sntp = SntpResponder(0.4)
    clock = KioskClock(TOKYO)
    sync = TimeSyncService(clock, ClientSlot(None), ntp_servers=(("127.0.0.1", sntp.port),))
    try:
        assert sync.sync_once().source is TimeSource.NTP
        assert (sntp.queries, sync.steps, clock.read().adjusting) == (1, 0, False)
    finally:
        sntp.close()


def test_uploads_after_a_day_jump_are_signed_with_the_corrected_time(sync_server, ledger):
    """Machine clock a day ahead: signed with it, the server refuses (clock skew) and the refusal asks for a
    re-sync; once the server's time is measured the same punch goes through, signed with the kiosk's time."""
    port = MachineClockPort(wall=time.time() + 86_400, boot=5000.0)
    clock = KioskClock(TOKYO, now=port.wall, monotonic=port.boot)
    slot = ClientSlot(sync_server.demo.client())
    time_sync = TimeSyncService(clock, slot, ntp_servers=())
    outbox = SqliteOutbox(ledger.db)
    uploads = SyncService(outbox, slot)
    asked = []
    uploads.on_clock_skew = lambda: asked.append(True)
    punch = make_punches(sync_server.employee_keys["1001"], 1, start_days_ago=371)[0]
    ledger.punches.record(punch)
    signing.use_clock(clock.epoch)
    try:
        status = uploads.drain()
        assert status.pending == 1 and asked == [True]
        assert (status.last_error.key, status.last_error.cause_letter) == ("auth_failed", "B")
        result = time_sync.sync_once()
        assert result.source is TimeSource.SERVER and time_sync.steps == 1
        assert abs(clock.epoch() - time.time()) < 2 and abs(clock.offset.total_seconds() + 86_400) < 2
        assert uploads.drain().pending == 0
        assert outbox.state_of(punch.uuid)[0] == "synced" and sync_server.punch_rows([punch.uuid]) == {punch.uuid: 1}
    finally:
        signing.use_clock(None)


def test_a_jump_is_noticed_on_the_tick_and_measured_again_at_once():
    sntp = SntpResponder(0.0)
    port = MachineClockPort(boot=100.0)
    clock = KioskClock(TOKYO, now=port.wall, monotonic=port.boot)
    sync = TimeSyncService(clock, ClientSlot(None), ntp_servers=(("127.0.0.1", sntp.port),),
                           interval=3600, tick=0.02)
    sync.start()
    try:
        end = time.monotonic() + 10
        while sync.last_result is None and time.monotonic() < end:
            time.sleep(0.01)
        assert sync.last_result is not None
        before, queries = clock.epoch(), sntp.queries
        port.jump(-3600)                                # the machine clock goes back an hour
        assert sntp.wait_queries(queries + 1)           # re-measured at once, not in an hour
        assert sync.jumps == 1
        assert clock.read().source is TimeSource.NTP and abs(clock.epoch() - before) < 2
        assert abs(clock.offset.total_seconds() - 3600) < 2
    finally:
        sync.stop()
        sntp.close()
