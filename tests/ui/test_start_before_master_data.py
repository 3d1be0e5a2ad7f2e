"""Standby is drawn before the master-data snapshot is loaded (issue 12, cold start ≤ 2 s: with 10,000 employees the
snapshot takes about a second), and a card tapped before it has loaded is punched for the right person once it has.

The snapshot's load is held on a gate (the real SQLite ledger behind it, as a slow disk would be): nothing on the
Kivy thread may wait for it, and the punch worker loads it once standby has been drawn."""
from __future__ import annotations

import threading

import pytest

from dakoku_core.demo import DEMO_CARDS, seed_demo
from dakoku_core.domain.model import PunchKind
from kiosk.adapters.ledger import master_store
from kiosk.app_factory import build_kiosk
from kiosk.settings import DisplaySettings, ReaderSettings, Settings
from kivy_harness import advance, attached_app, touch, wait_until

pytestmark = [pytest.mark.ui, pytest.mark.timeout(120)]


@pytest.fixture
def held_snapshot(monkeypatch):
    """The snapshot loads only once ``release`` is set; each load's thread is recorded."""
    release, loads, original = threading.Event(), [], master_store._load_snapshot

    def load():
        loads.append(threading.current_thread().name)
        if threading.current_thread() is threading.main_thread():
            return original()          # recorded: the test fails on it (waiting here would hang the UI)
        assert release.wait(30), "the snapshot was never released"
        return original()

    monkeypatch.setattr(master_store, "_load_snapshot", load)
    return release, loads


def _store_demo_company(data_dir) -> None:
    """The demo company stored by a first kiosk, as a データ更新 would have left it; that kiosk is closed."""
    kiosk = build_kiosk(Settings(data_dir=data_dir, reader=ReaderSettings(backend="simulated")))
    seed_demo(kiosk.master, kiosk.clock.read().at.date())
    kiosk.close()


def test_standby_first_then_a_card_tapped_before_the_data_is_punched_for_its_owner(window, tmp_path, held_snapshot):
    release, loads = held_snapshot
    _store_demo_company(tmp_path)
    loads.clear()
    kiosk = build_kiosk(Settings(data_dir=tmp_path, reader=ReaderSettings(backend="simulated"),
                                 display=DisplaySettings(fullscreen=False, confirmation_seconds=0.6, undo_seconds=0)))
    with attached_app(window, kiosk) as app:
        try:
            advance(5)   # standby drawn...
            assert app.manager.current == "standby" and app.standby.time_text
            wait_until(lambda: loads)   # ...then the worker asks for the snapshot (and waits at the gate)
            assert loads == ["kiosk-worker_0"], loads      # never on the Kivy thread
            card = next(c for c in DEMO_CARDS if c.employee_code == "1002")
            touch(app.standby.punch_button(PunchKind.CLOCK_IN))
            kiosk.reader.tap(card.card_id)             # before the data: queued behind its load, not lost
            advance(10)
            assert app.punch_screen.phase == "busy" and kiosk.punches.count() == 0
            release.set()
            wait_until(lambda: app.punch_screen.phase == "done")
            employee = kiosk.master.employee_by_code_or_login("1002")
            assert employee.display_name in app.punch_screen.headline
            [punch] = kiosk.punches.recent_punches(1)
            assert (punch.employee_key, punch.kind) == (employee.key, PunchKind.CLOCK_IN)
            assert loads == ["kiosk-worker_0"]
        finally:
            release.set()   # before the app stops: its worker may still wait at the gate
