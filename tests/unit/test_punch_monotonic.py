"""Issue 10 item 10: the re-authentication interval follows the boot clock, not the machine clock. The kiosk
clock has no measurement here (local), so a machine clock jump moves its stamps: a punch 4 s after the last
one in real time is still refused, whichever way the clock jumped, and one 31 s later is taken."""
from __future__ import annotations

from datetime import timedelta, timezone

import pytest

from kiosk.adapters.ledger import SqliteMasterData, SqlitePunchLedger
from kiosk.adapters.ledger.outbox import SqliteOutbox
from dakoku_core.demo import demo_card, seed_demo
from dakoku_core.domain.model import PunchKind, TimeSource
from dakoku_core.errors import KioskError
from kiosk.services.clock import KioskClock, MachineClockPort
from kiosk.services.punch import PunchService

JST = timezone(timedelta(hours=9))
CARD = demo_card("normal").card_id


@pytest.fixture
def kiosk(ledger_db):
    port = MachineClockPort(wall=1_795_000_000.0)          # 2026-11-18 (local time source: no measurement)
    clock = KioskClock(JST, now=port.wall, monotonic=port.boot)
    master, punches = SqliteMasterData(ledger_db), SqlitePunchLedger(ledger_db)
    seed_demo(master, clock.read().at.date())
    return port, PunchService(master, punches, clock, reauth_interval=timedelta(seconds=30)), punches, ledger_db


@pytest.mark.parametrize("jump", [-3600, +3600])
def test_a_clock_jump_does_not_shorten_the_interval(kiosk, jump):
    port, service, punches, _ = kiosk
    first = service.punch_with_card(PunchKind.CLOCK_IN, CARD)
    assert first.punch.time_source is TimeSource.LOCAL
    port.run(4)
    port.jump(jump)
    with pytest.raises(KioskError) as refused:
        service.punch_with_card(PunchKind.CLOCK_OUT, CARD)
    assert refused.value.key == "already_punched" and punches.count() == 1
    port.run(27)
    second = service.punch_with_card(PunchKind.CLOCK_OUT, CARD)
    assert (second.punch.stamped_at - first.punch.stamped_at).total_seconds() == 31 + jump


def test_uploads_go_in_the_order_made_after_a_backward_jump(kiosk):
    port, service, _, ledger_db = kiosk
    first = service.punch_with_card(PunchKind.CLOCK_IN, CARD)
    port.run(40)
    port.jump(-3600)
    second = service.punch_with_card(PunchKind.CLOCK_OUT, CARD)
    assert second.punch.stamped_at < first.punch.stamped_at
    assert [p.uuid for p in SqliteOutbox(ledger_db).pending_batch()] == [first.punch.uuid, second.punch.uuid]


def test_after_a_restart_the_ledger_stamps_still_apply(kiosk):
    port, service, punches, _ = kiosk
    service.punch_with_card(PunchKind.CLOCK_IN, CARD)
    port.run(4)
    restarted = PunchService(service._master, punches, service._clock, reauth_interval=timedelta(seconds=30))
    with pytest.raises(KioskError) as refused:
        restarted.punch_with_card(PunchKind.CLOCK_OUT, CARD)
    assert refused.value.key == "already_punched"
