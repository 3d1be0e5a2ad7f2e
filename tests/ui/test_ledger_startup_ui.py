"""Issue 10 item 11 on the real screens: a kiosk whose ledger was emptied (0 bytes) starts with
「打刻の保存に失敗しました。…」 in front of it, not a normal standby screen; the damaged file is kept aside."""
from __future__ import annotations

import os

import pytest

from kivy_harness import running_app, screenshot, wait_until

pytestmark = [pytest.mark.ui, pytest.mark.timeout(120)]


def test_an_emptied_ledger_is_shown_at_start(window, tmp_path):
    with running_app(window, tmp_path) as app:
        wait_until(lambda: app.manager.current == "standby")
        assert not app.presenter.is_open
        ledger = app.kiosk.settings.ledger_path
    os.truncate(ledger, 0)
    with running_app(window, tmp_path) as app:
        wait_until(lambda: app.presenter.is_open)
        assert app.presenter.current.key == "punch_record_failed"
        assert app.presenter.dialog.message == "打刻の保存に失敗しました。タイムレコーダーを再立ち上げしてもう一度打刻して下さい"
        screenshot(window, "startup_ledger_damaged")
    kept = [p for p in tmp_path.glob("ledger.sqlite3.damaged-*") if not p.name.endswith(("-wal", "-shm"))]
    assert len(kept) == 1 and kept[0].stat().st_size == 0      # set aside as found, with its -wal/-shm
