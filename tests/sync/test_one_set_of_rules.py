"""Issue 9, one set of rules, against the real reference server over TLS on loopback: the operator changes the
recorder's re-authentication interval with the admin CLI, データ更新 brings it to the kiosk, and the kiosk judges
punches exactly as the server will (nothing it confirmed is refused at sync). A punch the server still refuses
(the employee retired between the punch and the sync) stays, counted and listed with its reason."""
from __future__ import annotations

import itertools
import subprocess
import sys
from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest

from dakoku_core.domain.model import PunchKind
from dakoku_core.errors import KioskError
from kiosk.services.data_update import DataUpdateService
from kiosk.services.punch import PunchService
from kiosk.services.recorder_api import ClientSlot
from kiosk.services.status import StatusService
from kiosk.services.sync import SyncService

from .conftest import JST
from .harness import Provisioning

pytestmark = pytest.mark.timeout(180)
IN, OUT = PunchKind.CLOCK_IN, PunchKind.CLOCK_OUT
_numbers = itertools.count(0x70)


class MovableClock:
    """The kiosk's clock, moved by the test (45 s pass without waiting them)."""

    def __init__(self, at: datetime):
        self.at = at

    def read(self):
        from dakoku_core.domain.model import ClockReading, TimeSource

        return ClockReading(self.at, TimeSource.NTP)


def cli(sync_server, *args: str) -> str:
    """The admin CLI as the operator runs it, against the running server's database."""
    done = subprocess.run([sys.executable, "-m", "dakoku_server.cli", "--db", sync_server.process.db_url, *args],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout


@dataclass
class OwnRecorder:
    provisioning: Provisioning
    code: str         # the recorder's
    employee: str     # the employee's code
    card: str


@pytest.fixture
def recorder(sync_server, tmp_path):
    """A recorder of this test's own (its settings change; the session's R001 must not) and an employee with a
    card of its own (it gets retired)."""
    n = next(_numbers)
    code, employee, card = f"RH{n}", f"H1X{n}", f"01020304050607{n:02X}"
    out = tmp_path / "recorder.txt"
    cli(sync_server, "recorders", "add", "DEMO", code, "--department", "HQ", "--out", str(out))
    cli(sync_server, "employees", "add", "DEMO", employee, "--last-name", "試験", "--first-name", "一郎",
        "--department", "HQ", "--type", "FULL", "--hired", "2020-04-01")
    cli(sync_server, "cards", "add", "DEMO", employee, card)
    return OwnRecorder(Provisioning.from_text(out.read_text("utf-8")), code, employee, card)


def test_the_servers_interval_judges_at_the_kiosk_and_nothing_is_refused_at_sync(sync_server, ledger, recorder):
    clock = MovableClock(datetime.now(JST).replace(hour=9, minute=0, second=0, microsecond=0) - timedelta(days=333))
    slot = ClientSlot(recorder.provisioning.client())
    update = DataUpdateService(ledger.store, slot)
    punches = PunchService(ledger.master, ledger.punches, clock)
    sync = SyncService(ledger.outbox, slot)
    card = recorder.card

    cli(sync_server, "recorders", "set", "DEMO", recorder.code, "reauth_interval_seconds", "30")
    update.update()
    assert ledger.master.recorder_settings().reauth_interval_seconds == 30
    punches.punch_with_card(IN, card)
    clock.at += timedelta(seconds=45)
    punches.punch_with_card(OUT, card)                  # 45 s > 30 s: the kiosk takes it, and so does the server
    assert (sync.drain().rejected, ledger.outbox.counts().synced) == (0, 2)

    cli(sync_server, "recorders", "set", "DEMO", recorder.code, "reauth_interval_seconds", "90")
    update.update()                                     # データ更新 brings the new interval
    assert ledger.master.recorder_settings().reauth_interval_seconds == 90
    clock.at += timedelta(minutes=10)
    punches.punch_with_card(IN, card)
    clock.at += timedelta(seconds=45)
    with pytest.raises(KioskError) as refused:          # 45 s < 90 s: refused here, not later at sync
        punches.punch_with_card(OUT, card)
    assert refused.value.key == "already_punched" and refused.value.message("ja") == "既に打刻受け付け済みです"

    status = sync.drain()
    assert (status.pending, status.rejected) == (0, 0)  # everything the kiosk confirmed, the server accepted
    assert ledger.outbox.counts().synced == 3 and StatusService(ledger.punches, ledger.master).snapshot(0).refused == 0


def test_a_punch_refused_at_sync_is_counted_and_listed_with_its_reason(sync_server, ledger, recorder):
    day = datetime.now(JST).replace(hour=9, minute=0, second=0, microsecond=0) - timedelta(days=3)
    clock = MovableClock(day)
    slot = ClientSlot(recorder.provisioning.client())
    DataUpdateService(ledger.store, slot).update()
    status = StatusService(ledger.punches, ledger.master)
    punch = PunchService(ledger.master, ledger.punches, clock).punch_with_card(IN, recorder.card).punch

    # retired on the server (the day before the punch) before the kiosk could upload it
    cli(sync_server, "employees", "update", "DEMO", recorder.employee, "--retired", (day - timedelta(days=1)).date().isoformat())
    sync = SyncService(ledger.outbox, slot).drain()
    assert (sync.pending, sync.rejected) == (0, 1)
    assert ledger.outbox.state_of(punch.uuid)[0] == "rejected" and ledger.punches.count() == 1   # kept, not dropped
    snapshot = status.snapshot(0)
    assert (snapshot.unsent, snapshot.refused) == (0, 1)
    [refused] = status.refused_punches()
    assert (refused.punch.uuid, refused.name, refused.error_key) == (punch.uuid, "試験 一郎", "after_retirement")
    assert refused.reason("ja") == KioskError("after_retirement").message("ja")
