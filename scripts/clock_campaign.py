"""The clock campaign's rounds (run by scripts/campaign_clock.py; see its docstring)."""
from __future__ import annotations

import logging
import tempfile
import threading
import time
from collections import Counter
from datetime import timedelta, timezone
from pathlib import Path

from clock_campaign_parts import CampaignServer, CrashCounter, Machine, Sntp, card, server_env, wait
from demo_server import DemoServer
from kiosk.adapters.ledger import SqliteMasterData, SqlitePunchLedger, open_ledger
from kiosk.adapters.ledger.master_sync import SqliteMasterSync
from kiosk.adapters.ledger.outbox import SqliteOutbox
from dakoku_core.domain.model import PunchKind, TimeSource
from dakoku_core.errors import KioskError
from dakoku_core.protocol import signing
from dakoku_server import admin
from kiosk.services.clock import KioskClock
from kiosk.services.data_update import DataUpdateService
from kiosk.services.punch import PunchService
from kiosk.services.recorder_api import ClientSlot
from kiosk.services.sync import SyncService
from kiosk.services.time_sync import TimeSyncService

JST = timezone(timedelta(hours=9))
DAY, HOUR = 86_400.0, 3600.0
HOLD = 3.0          # seconds a measurement stays fresh in the campaign (the product: 3 h)


class Campaign:
    def __init__(self, faketime: bool):
        self.machine = Machine(faketime)
        self.figures: Counter = Counter()
        self.errors: dict[str, float] = {}        # scenario -> worst |stamp - true| of measured-labelled punches
        self.failures: list[str] = []
        self.latencies: list[float] = []
        self.crashes = CrashCounter()
        logging.getLogger().addHandler(self.crashes)
        threading.excepthook = lambda args: setattr(self.crashes, "count", self.crashes.count + 1)
        self.next_employee = 0

    # -- set-up ------------------------------------------------------------------------------------------
    def setup(self, employees: int) -> None:
        self.server_files = DemoServer("clock-campaign-")
        comp = admin.company("DEMO")
        for i in range(employees):
            admin.add_employee(comp, f"C{i:04d}", f"時計{i}", "HQ", "FULL", first_name="太郎")
            admin.add_card(comp, f"C{i:04d}", card(i))
        self.start_server(None)
        work = Path(tempfile.mkdtemp(prefix="clock-campaign-kiosk-"))
        self.ledger = open_ledger(work / "ledger.sqlite3")
        master = SqliteMasterData(self.ledger)
        self.slot = ClientSlot(self.server_files.provisioning().client())
        DataUpdateService(SqliteMasterSync(self.ledger, master), self.slot).update()
        self.clock = KioskClock(JST, now=self.machine.wall)
        signing.use_clock(self.clock.epoch)
        self.sntp = Sntp(self.machine)
        self.punches = PunchService(master, SqlitePunchLedger(self.ledger), self.clock,
                                    reauth_interval=timedelta(seconds=30))
        self.outbox = SqliteOutbox(self.ledger)
        self.uploads = SyncService(self.outbox, self.slot)
        self.time_sync = TimeSyncService(self.clock, self.slot, ntp_servers=(("127.0.0.1", self.sntp.port),),
                                         ntp_timeout=0.5, tick=0.05, hold=HOLD)
        self.uploads.on_clock_skew = self.time_sync.request_sync
        self.time_sync.start()

    def start_server(self, fake_offset: str | None) -> None:
        files = self.server_files
        self.server = CampaignServer(files.db_url, files.work / "server.sqlite", files.work / "demo" / "tls",
                                     files.port, files.work / "server.log")   # kept before start: stopped on failure
        self.server.env = server_env(fake_offset)
        self.server.start()

    def close(self) -> None:
        """Stop what was started (also after a failed set-up)."""
        for part, stop in (("time_sync", "stop"), ("server", "stop"), ("ledger", "close")):
            if getattr(self, part, None) is not None:
                getattr(getattr(self, part), stop)()
        signing.use_clock(None)

    # -- steps ---------------------------------------------------------------------------------------------
    def check(self, ok: bool, what: str) -> None:
        if not ok:
            self.failures.append(what)

    def punch(self, scenario: str, kind: PunchKind = PunchKind.CLOCK_IN, employee: int | None = None):
        if employee is None:
            employee, self.next_employee = self.next_employee, self.next_employee + 1
        try:
            result = self.punches.punch_with_card(kind, card(employee))
        except KioskError as error:
            self.figures[f"refused {error.key}{'/' + error.cause_letter if error.cause_letter else ''}"] += 1
            return error
        self.figures[f"punches labelled {result.punch.time_source.value}"] += 1
        if result.punch.time_source is TimeSource.LOCAL:
            self.figures[f"labelled local in {scenario}"] += 1
        error = result.punch.stamped_at.timestamp() - self.machine.true() - self.sntp_skew_if_ntp(result.punch)
        if result.punch.time_source is not TimeSource.LOCAL:
            self.errors[scenario] = max(self.errors.get(scenario, 0.0), abs(error))
            self.check(abs(error) < 1.0, f"{scenario}: stamped {error:+.1f}s off, labelled {result.punch.time_source}")
        return result

    def sntp_skew_if_ntp(self, punch) -> float:
        return self.sntp.skew if punch.time_source is TimeSource.NTP else self.server_skew

    def jump_and_resync(self, seconds: float, scenario: str) -> None:
        jumps, queries, started = self.time_sync.jumps, self.sntp.queries, time.monotonic()
        self.machine.jump(seconds)
        noticed = wait(lambda: self.time_sync.jumps > jumps and self.time_sync.last_result is not None)
        measured = wait(lambda: self.sntp.queries > queries) if self.sntp.reachable else noticed
        self.check(noticed and measured, f"{scenario}: jump of {seconds:+.0f}s not noticed / not re-measured")
        self.latencies.append(time.monotonic() - started)
        self.figures["jumps"] += 1

    def drain(self, scenario: str, expect_sent: bool = True):
        status = self.uploads.drain()
        for _ in range(3):        # as the worker would: a transport failure is tried again (counted)
            if status.pending == 0 or status.last_error is None or status.last_error.cause_letter == "B":
                break
            self.figures[f"upload retried after {status.last_error.key}"] += 1
            time.sleep(1)
            status = self.uploads.drain()
        if expect_sent:
            self.check(status.pending == 0, f"{scenario}: {status.pending} punches still pending ({status.last_error})")
        return status

    # -- rounds --------------------------------------------------------------------------------------------
    server_skew = 0.0

    def round(self) -> None:
        self.check(wait(lambda: self.clock.read().source is TimeSource.NTP), "baseline: no NTP")
        self.punch("baseline")
        self.jump_and_resync(+DAY, "forward_1d")
        self.punch("forward_1d")
        self.drain("forward_1d")                       # item 7: signed with the corrected time
        self.jump_and_resync(-DAY, "back_1d")
        self.punch("back_1d")                          # item 8: no stale correction after the jump back
        self.reauth_after_backward_jump()
        self.sntp.reachable = False
        self.jump_and_resync(+DAY, "ntp_unreachable")
        self.check(wait(lambda: self.clock.read().source is TimeSource.SERVER), "ntp_unreachable: no server time")
        self.punch("ntp_unreachable")
        self.drain("ntp_unreachable")
        self.everything_unreachable()
        self.sntp.reachable = True
        self.time_sync.request_sync()
        self.check(wait(lambda: self.clock.read().source is TimeSource.NTP), "recovered: no NTP")
        self.drain("recovered", expect_sent=False)

    def reauth_after_backward_jump(self) -> None:
        """Item 10: 退勤 2 s after 出勤 in real time, with the machine clock set back an hour in between."""
        employee, self.next_employee = self.next_employee, self.next_employee + 1
        self.punch("reauth", PunchKind.CLOCK_IN, employee)
        time.sleep(2)
        self.jump_and_resync(-HOUR, "reauth")
        refused = self.punch("reauth", PunchKind.CLOCK_OUT, employee)
        self.check(isinstance(refused, KioskError) and refused.key == "already_punched", "reauth: accepted")
        self.jump_and_resync(+HOUR, "reauth")

    def everything_unreachable(self) -> None:
        """Item 9: no source answers; once the measurement is stale the label says local."""
        self.server.stop()
        self.check(wait(lambda: self.clock.read().source is TimeSource.LOCAL, HOLD + 10), "stale: still measured")
        self.punch("stale")
        self.jump_and_resync(-DAY, "stale")
        self.start_server(None)

    def step_while_punching(self) -> None:
        """認証に失敗しました B: a punch while the time sync confirms a step (the confirming answer is slow)."""
        self.sntp.skew = 2 * HOUR
        gate = self.sntp.hold_next_confirmation()
        self.time_sync.request_sync()
        self.check(self.sntp.held.wait(10) and self.clock.read().adjusting, "step: never adjusting")
        refused = self.punch("step")
        self.check(isinstance(refused, KioskError) and refused.cause_letter == "B", "step: punch not refused B")
        gate.set()
        self.check(wait(lambda: not self.clock.read().adjusting), "step: stuck adjusting")
        self.sntp.gate = None
        self.punch("step")                             # stamped with the new (NTP +2 h) time
        self.sntp.skew = 0.0
        self.time_sync.request_sync()
        self.check(wait(lambda: abs(self.clock.epoch() - self.machine.true()) < 1), "step: not back")

    def server_clock_far_off(self) -> None:
        """The server's clock is 2 h ahead: NTP-true signatures are refused (B) and nothing is lost; with NTP
        unreachable the kiosk takes the server's time, labelled server, and uploads go through."""
        self.server.stop()
        self.start_server("+2h")
        self.time_sync.request_sync()
        self.check(wait(lambda: self.clock.read().source is TimeSource.NTP), "server_off: no NTP")
        self.punch("server_off_ntp")
        status = self.drain("server_off_ntp", expect_sent=False)
        self.check(status.pending >= 1 and status.last_error is not None and status.last_error.cause_letter == "B",
                   f"server_off: {status}")
        self.figures["server far off: refused for clock skew"] += status.pending
        self.sntp.reachable, self.server_skew = False, 2 * HOUR
        self.time_sync.request_sync()
        self.check(wait(lambda: self.clock.read().source is TimeSource.SERVER), "server_off: no server time")
        self.punch("server_off_server")
        self.drain("server_off_server", expect_sent=False)
        self.sntp.reachable, self.server_skew = True, 0.0
        self.server.stop()
        self.start_server(None)
        self.time_sync.request_sync()
        self.check(wait(lambda: self.clock.read().source is TimeSource.NTP), "server_off: NTP not back")

    def run(self, rounds: int) -> int:
        started = time.monotonic()
        try:
            self.setup(employees=6 * rounds + 10)
            for _ in range(rounds):
                self.round()
            self.step_while_punching()
            if self.machine.faketime:
                self.server_clock_far_off()
            self.drain("end", expect_sent=False)
            counts = self.outbox.counts()
            self.figures.update({"ledger synced": counts.synced, "ledger rejected by the server": counts.rejected,
                                 "ledger pending": counts.pending})
            for reason, source, n in self.ledger.db.execute_sql(
                    "SELECT last_error, time_source, COUNT(*) FROM punch WHERE sync_state = 'rejected' "
                    "GROUP BY last_error, time_source").fetchall():
                self.figures[f"rejected by the server: {reason} (labelled {source})"] = n
        finally:
            self.close()
        self.report(rounds, time.monotonic() - started)
        return 1 if self.failures or self.crashes.count else 0

    def report(self, rounds: int, seconds: float) -> None:
        print(f"mode: {'libfaketime (process clock)' if self.machine.faketime else 'clock port'}")
        print(f"rounds: {rounds}")
        print(f"seconds: {seconds:.1f}")
        for name, value in sorted(self.figures.items()):
            print(f"{name}: {value}")
        for scenario, worst in sorted(self.errors.items()):
            print(f"worst stamp error {scenario}: {worst:.3f} s")
        if self.latencies:
            print(f"jump to re-measured: max {max(self.latencies):.3f} s, mean "
                  f"{sum(self.latencies) / len(self.latencies):.3f} s")
        print(f"steps confirmed: {self.time_sync.steps}")
        print(f"crashes: {self.crashes.count}")
        print(f"failed checks: {len(self.failures)}")
        for failure in self.failures:
            print(f"  FAILED {failure}")
