"""Shared fixtures. Kivy's environment is fixed here, before anything can import kivy."""
from __future__ import annotations

import os
import tempfile

os.environ.setdefault("KIVY_WINDOW", "sdl2")        # never Kivy's x11 provider: it exits with 102
os.environ.setdefault("KIVY_HOME", tempfile.mkdtemp(prefix="kivy-home-"))
os.environ.setdefault("KIVY_NO_ARGS", "1")
os.environ.setdefault("KIVY_NO_CONSOLELOG", "1")
os.environ.setdefault("KIVY_NO_FILELOG", "1")
os.environ.setdefault("KIVY_CLIPBOARD", "sdl2")
os.environ.setdefault("KIVY_LOG_MODE", "PYTHON")

from datetime import datetime, timedelta, timezone  # noqa: E402

import pytest  # noqa: E402

from kiosk.adapters.ledger import SqliteMasterData, SqlitePunchLedger, open_ledger  # noqa: E402
from dakoku_core.demo import seed_demo  # noqa: E402
from dakoku_core.domain.model import ClockReading, TimeSource  # noqa: E402
from kiosk.services.punch import PunchService  # noqa: E402
from kivy_harness import window  # noqa: E402,F401  (the session's one Kivy window, created on first use)

JST = timezone(timedelta(hours=9))


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self, at: datetime, source: TimeSource = TimeSource.LOCAL):
        self.at, self.source, self.adjusting = at, source, False

    def read(self) -> ClockReading:
        return ClockReading(self.at, self.source, self.adjusting)

    def advance(self, **delta) -> None:
        self.at += timedelta(**delta)


@pytest.fixture
def ledger_db(tmp_path):
    db = open_ledger(tmp_path / "ledger.sqlite3")
    yield db
    db.close()


@pytest.fixture
def clock():
    return FakeClock(datetime(2026, 11, 25, 8, 55, tzinfo=JST))


@pytest.fixture
def demo_kiosk(ledger_db, clock):
    """Master data of the demo company in a real ledger file, a fake clock and the real punch service."""
    master, punches = SqliteMasterData(ledger_db), SqlitePunchLedger(ledger_db)
    seed_demo(master, clock.at.date())
    service = PunchService(master, punches, clock, reauth_interval=timedelta(seconds=30))
    return master, punches, service
