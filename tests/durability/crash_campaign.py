"""Crash-consistency campaign (issue 10): SIGKILL at random moments while the kiosk punches and syncs, saves settings
and creates or migrates a ledger; then check that every acknowledged punch is exactly once in the ledger and at the
server, that every SQLite file passes ``PRAGMA integrity_check``, and that the settings file is the old or the new
document, never a mix. The short form is tests/durability/test_crash_campaign.py; the long form
benchmarks/campaign_crash.py --rounds 1000.
"""
from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

from dakoku_core.errors import KioskError
from kiosk.settings import load_settings, save_settings_value
from tests.campaigns.peers import DemoPeer, demo_peer
from tests.durability.crash_child import SETTINGS_KEY, settings_value

ROOT = Path(__file__).resolve().parents[2]
CHILD = Path(__file__).with_name("crash_child.py")
JST = timezone(timedelta(hours=9))
WEIGHTS = {"punch_sync": 6, "settings": 2, "migrate": 2}
# seconds after the fork; a migrate round is killed early (creation, migrations) or late (punching) half the time each
KILL_AFTER = {"punch_sync": [(0.0, 1.2)], "settings": [(0.0, 0.25)], "migrate": [(0.0, 0.15), (0.0, 2.0)]}


@dataclass
class Figures:
    rounds: int = 0
    kills: Counter = field(default_factory=Counter)          # scenario → SIGKILLs that hit a live child
    exited_early: Counter = field(default_factory=Counter)   # scenario → children that ended before the kill
    acknowledged_punches: int = 0                            # shared ledger (punch + sync)
    acknowledged_migrate_punches: int = 0
    acknowledged_settings_saves: int = 0
    migrations_killed_before_done: int = 0
    lost_in_ledger: int = 0
    at_server_exactly_once: int = 0
    at_server_missing: int = 0
    at_server_duplicated: int = 0
    integrity_checks: int = 0
    integrity_failures: list = field(default_factory=list)
    torn_settings: list = field(default_factory=list)
    child_errors: list = field(default_factory=list)
    damage_reported: list = field(default_factory=list)      # a killed creation reported as a damaged ledger
    pending_but_at_server: int = 0                           # answers lost to kills: the server had the batch
    drain: str = ""
    seconds: float = 0.0

    @property
    def problems(self) -> list[str]:
        out = []
        if self.lost_in_ledger or self.at_server_missing or self.at_server_duplicated:
            out.append(f"lost {self.lost_in_ledger} in the ledger, {self.at_server_missing} missing and "
                       f"{self.at_server_duplicated} duplicated at the server")
        return out + self.integrity_failures + self.torn_settings + self.child_errors + self.damage_reported

    def lines(self) -> list[str]:
        return [f"crash_rounds: {self.rounds}", f"crash_sigkills: {sum(self.kills.values())} {dict(self.kills)}",
                f"crash_children_ended_before_kill: {dict(self.exited_early)}",
                f"crash_acknowledged_punches: {self.acknowledged_punches}",
                f"crash_acknowledged_punches_fresh_ledgers: {self.acknowledged_migrate_punches}",
                f"crash_acknowledged_settings_saves: {self.acknowledged_settings_saves}",
                f"crash_migrations_killed_before_done: {self.migrations_killed_before_done}",
                f"crash_lost_in_ledger: {self.lost_in_ledger}",
                f"crash_at_server_exactly_once: {self.at_server_exactly_once}",
                f"crash_at_server_missing: {self.at_server_missing}",
                f"crash_at_server_duplicated: {self.at_server_duplicated}",
                f"crash_integrity_checks: {self.integrity_checks} ({len(self.integrity_failures)} failed)",
                f"crash_torn_settings: {len(self.torn_settings)}", f"crash_child_errors: {len(self.child_errors)}",
                f"crash_damage_reported_after_kill: {len(self.damage_reported)}",
                f"crash_pending_in_ledger_but_at_server: {self.pending_but_at_server}",
                f"crash_final_drain: {self.drain}", f"crash_seconds: {self.seconds:.1f} s"]


class Zygote:
    """crash_child.py's pre-imported parent: forks a child per round."""

    def __init__(self):
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
        self.process = subprocess.Popen([sys.executable, str(CHILD)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        text=True, env=env, cwd=ROOT)

    def _ask(self, command: dict) -> dict:
        self.process.stdin.write(json.dumps(command) + "\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"the crash zygote died ({self.process.poll()})")
        return json.loads(line)

    def run(self, **command) -> int:
        return self._ask({"op": "run", **command})["pid"]

    def wait(self, pid: int) -> int:
        return self._ask({"op": "wait", "pid": pid})["status"]

    def close(self) -> None:
        self.process.stdin.close()
        self.process.wait(timeout=30)


def read_acks(path: Path) -> list[str]:
    """Complete lines only: a line the kill cut short was never acknowledged."""
    if not path.exists():
        return []
    return path.read_bytes().decode("utf-8", "replace").split("\n")[:-1]


def sqlite_check(path: Path, figures: Figures, what: str) -> sqlite3.Connection | None:
    if not path.exists() or path.stat().st_size == 0:
        return None
    con = sqlite3.connect(path, timeout=30)
    figures.integrity_checks += 1
    verdict = con.execute("PRAGMA integrity_check").fetchone()[0]
    if verdict != "ok":
        figures.integrity_failures.append(f"{what}: integrity_check says {verdict[:200]}")
    return con


class Campaign:
    def __init__(self, work: Path, rounds: int, seed: int):
        self.work, self.rounds, self.rng = work, rounds, random.Random(seed)
        self.figures = Figures()
        self.ledger = work / "kiosk" / "ledger.sqlite3"
        self.settings_path = work / "kiosk" / "settings.json"
        self.acked_punches: list[str] = []
        self.lost_answers: set[str] = set()
        self.settings_acked = 0
        self.migrate_index = 0
        self.base = (datetime.now(JST) - timedelta(days=rounds + 40)).replace(hour=0, minute=0, second=0,
                                                                              microsecond=0)

    def common(self, peer: DemoPeer) -> dict:
        return {"connection": peer.provisioning.connection_text, "certificate": peer.provisioning.certificate_text,
                "ledger": str(self.ledger)}

    def run(self, peer: DemoPeer, zygote: Zygote, log=print) -> Figures:
        started = time.monotonic()
        (self.work / "kiosk").mkdir(parents=True, exist_ok=True)
        self.settle(zygote, scenario="prepare", **self.common(peer))
        save_settings_value(self.settings_path, SETTINGS_KEY, settings_value(0))
        cards = [c["card_id"] for c in peer.demo["cards"] if c["employee_code"] in ("1001", "1002", "1003")]
        for n in range(self.rounds):
            scenario = self.rng.choices(list(WEIGHTS), list(WEIGHTS.values()))[0]
            getattr(self, f"round_{scenario}")(n, peer, zygote, cards)
            self.figures.rounds += 1
            if log and (n + 1) % 100 == 0:
                log(f"... {n + 1} rounds, {sum(self.figures.kills.values())} kills, "
                    f"{len(self.acked_punches)} punches acknowledged")
        self.figures.drain = self.settle(zygote, scenario="drain", **self.common(peer))
        self.final_check(peer)
        self.figures.seconds = time.monotonic() - started
        return self.figures

    def settle(self, zygote: Zygote, **command) -> str:
        acks = self.work / f"acks-{command['scenario']}.txt"
        pid = zygote.run(acks=str(acks), max_seconds=300, **command)
        zygote.wait(pid)
        lines = read_acks(acks)
        if not lines or lines[-1].startswith("E "):
            raise RuntimeError(f"{command['scenario']} failed: {lines[-1:]}")
        return lines[-1]

    def kill_round(self, zygote: Zygote, scenario: str, acks: Path, **command) -> list[str]:
        pid = zygote.run(scenario=scenario, acks=str(acks), **command)
        time.sleep(self.rng.uniform(*self.rng.choice(KILL_AFTER[scenario])))
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        status = zygote.wait(pid)
        if os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL:
            self.figures.kills[scenario] += 1
        else:
            self.figures.exited_early[scenario] += 1
        lines = read_acks(acks)
        self.figures.child_errors += [f"{scenario}: {line}" for line in lines if line.startswith("E ")]
        acks.unlink(missing_ok=True)
        return lines

    def round_punch_sync(self, n: int, peer: DemoPeer, zygote: Zygote, cards: list[str]) -> None:
        lines = self.kill_round(zygote, "punch_sync", self.work / "acks.txt", cards=cards,
                                base=(self.base + timedelta(days=n)).isoformat(), **self.common(peer))
        self.acked_punches += [line[2:] for line in lines if line.startswith("P ")]
        con = sqlite_check(self.ledger, self.figures, f"round {n}: ledger")
        if con is not None:
            con.close()
            self.count_lost_answers(peer)

    def round_settings(self, n: int, peer: DemoPeer, zygote: Zygote, cards: list[str]) -> None:
        lines = self.kill_round(zygote, "settings", self.work / "acks.txt", path=str(self.settings_path),
                                start=self.settings_acked)
        saves = [int(line[2:]) for line in lines if line.startswith("S ")]
        self.figures.acknowledged_settings_saves += len(saves)
        self.settings_acked = max(saves, default=self.settings_acked)
        try:
            value = getattr(load_settings(self.settings_path), SETTINGS_KEY)
        except KioskError as exc:
            self.figures.torn_settings.append(f"round {n}: settings do not load after the kill: {exc}")
            return
        # the file holds the last acknowledged save, or the one in flight when the kill came: whole, never mixed
        for candidate in (self.settings_acked, self.settings_acked + 1):
            if value == settings_value(candidate):
                self.settings_acked = candidate
                return
        self.figures.torn_settings.append(f"round {n}: settings are neither save {self.settings_acked} nor the next")

    def round_migrate(self, n: int, peer: DemoPeer, zygote: Zygote, cards: list[str]) -> None:
        path = self.work / "fresh" / f"ledger-{self.migrate_index // 2}.sqlite3"   # each path: created, reopened
        self.migrate_index += 1
        lines = self.kill_round(zygote, "migrate", self.work / "acks.txt", ledger=str(path),
                                base=(self.base + timedelta(days=n)).isoformat())
        if not any(line.startswith("M ") for line in lines):
            self.figures.migrations_killed_before_done += 1
        self.figures.damage_reported += [f"round {n}: {line}" for line in lines if line.startswith("X ")]
        acked = [line[2:] for line in lines if line.startswith("P ")]
        self.figures.acknowledged_migrate_punches += len(acked)
        con = sqlite_check(path, self.figures, f"round {n}: {path.name}")
        if con is None:
            if acked:
                self.figures.integrity_failures.append(f"round {n}: {path.name} is gone with punches in it")
            return
        try:
            stored = {u for (u,) in con.execute("SELECT uuid FROM punch")} if acked else set()
        finally:
            con.close()
        self.figures.lost_in_ledger += sum(1 for u in acked if u not in stored)

    def count_lost_answers(self, peer: DemoPeer) -> None:
        """Punches still pending in the ledger that the server already holds: a batch was in flight when the kill
        came (the server stored it, the answer never arrived). The next round (or the final drain) sends them again
        and gets ``duplicate``. Looked for after each punch + sync round; each punch counted once."""
        con = sqlite3.connect(self.ledger, timeout=30)
        try:
            pending = [u for (u,) in con.execute("SELECT uuid FROM punch WHERE sync_state = 'pending'")]
        finally:
            con.close()
        self.lost_answers.update(u for u, c in peer.punch_rows(pending).items() if c)
        self.figures.pending_but_at_server = len(self.lost_answers)

    def final_check(self, peer: DemoPeer) -> None:
        con = sqlite_check(self.ledger, self.figures, "final ledger")
        try:
            rows = dict(con.execute("SELECT uuid, sync_state FROM punch").fetchall())
        finally:
            con.close()
        self.figures.acknowledged_punches = len(self.acked_punches)
        self.figures.lost_in_ledger += sum(1 for u in self.acked_punches if u not in rows)
        on_server = peer.punch_rows(self.acked_punches)
        self.figures.at_server_exactly_once = sum(1 for c in on_server.values() if c == 1)
        self.figures.at_server_missing = sum(1 for c in on_server.values() if c == 0)
        self.figures.at_server_duplicated = sum(1 for c in on_server.values() if c > 1)
        server_con = sqlite_check(peer.process.db_path, self.figures, "server database")
        if server_con is not None:
            server_con.close()


def run_campaign(work: Path, rounds: int, seed: int = 20261202, log=print) -> Figures:
    peer = demo_peer(work / "server")
    peer.process.start()
    zygote = Zygote()
    try:
        return Campaign(work, rounds, seed).run(peer, zygote, log)
    finally:
        zygote.close()
        peer.process.stop()
