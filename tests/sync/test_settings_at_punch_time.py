"""Issue 9 across a settings change, against the real reference server over TLS on loopback: the kiosk stamps
each punch with the master-data version it judged it under, and the server judges it with that version's
recorder settings. So raising the re-authentication interval between a punch and its sync refuses nothing the
kiosk confirmed, while the same punches without the version (an older kiosk) are judged by today's settings.
The 打刻時警告 is the kiosk's question only: a 退勤 without 出勤 confirmed with はい is accepted at sync."""
from __future__ import annotations

import dataclasses
import uuid
from datetime import datetime, timedelta

import pytest

from dakoku_core.domain.model import PunchKind
from kiosk.services.data_update import DataUpdateService
from kiosk.services.punch import PunchService, SequenceQuestion
from kiosk.services.recorder_api import ClientSlot
from kiosk.services.sync import SyncService

from .conftest import JST
from .test_one_set_of_rules import MovableClock, cli, recorder  # noqa: F401  (recorder: a fixture)

pytestmark = pytest.mark.timeout(180)
IN, OUT = PunchKind.CLOCK_IN, PunchKind.CLOCK_OUT


def _morning(days_ago: int) -> datetime:
    return datetime.now(JST).replace(hour=9, minute=0, second=0, microsecond=0) - timedelta(days=days_ago)


def test_raising_the_interval_before_the_sync_refuses_nothing_the_kiosk_confirmed(sync_server, ledger, recorder):
    clock = MovableClock(_morning(222))
    slot = ClientSlot(recorder.provisioning.client())
    punches = PunchService(ledger.master, ledger.punches, clock)
    cli(sync_server, "recorders", "set", "DEMO", recorder.code, "reauth_interval_seconds", "30")
    DataUpdateService(ledger.store, slot).update()
    judged_under = ledger.store.current_version().version
    first = punches.punch_with_card(IN, recorder.card).punch
    clock.at += timedelta(seconds=45)
    second = punches.punch_with_card(OUT, recorder.card).punch       # 45 s > 30 s: confirmed here
    assert [ledger.punches.get(p.uuid).master_version for p in (first, second)] == [judged_under] * 2

    cli(sync_server, "recorders", "set", "DEMO", recorder.code, "reauth_interval_seconds", "90")   # no データ更新
    status = SyncService(ledger.outbox, slot).drain()
    assert (status.pending, status.rejected, ledger.outbox.counts().synced) == (0, 0, 2)

    # the control: the same two punches from a kiosk that does not send the version (a day later) are judged
    # with the settings in force now (90 s), so the second is refused; the version is what made the difference
    older_kiosk = [dataclasses.replace(p, uuid=str(uuid.uuid4()), master_version=None,
                                       stamped_at=p.stamped_at + timedelta(days=1)) for p in (first, second)]
    outcomes = slot.get().upload_punches(older_kiosk)
    assert [(o.status, o.error_key) for o in outcomes] == [("accepted", ""), ("rejected", "already_punched")]


def test_a_clock_out_without_clock_in_confirmed_with_yes_is_accepted_at_sync(sync_server, ledger, recorder):
    clock = MovableClock(_morning(221).replace(hour=18))
    slot = ClientSlot(recorder.provisioning.client())
    DataUpdateService(ledger.store, slot).update()
    punches = PunchService(ledger.master, ledger.punches, clock)
    assert ledger.master.recorder_settings().sequence_warning
    with pytest.raises(SequenceQuestion) as asked:
        punches.punch_with_card(OUT, recorder.card)                  # 「『出勤』の記録がありません。…」
    punch = punches.confirm(asked.value).punch                       # はい
    status = SyncService(ledger.outbox, slot).drain()
    assert (status.pending, status.rejected) == (0, 0)
    assert ledger.outbox.state_of(punch.uuid)[0] == "synced"
