"""End to end with the real PC/SC stack: a virtual FeliCa card on the private pcscd's PaSoRi produces a
punch in the ledger and a confirmation on the real (offscreen) screen; a card pulled away mid-read asks
for another tap; pcscd going away shows the reader error and the kiosk recovers by itself."""
from __future__ import annotations

import pytest

from dakoku_core.demo import DEMO_CARDS
from dakoku_core.domain.model import PunchKind
from kiosk.ports import ReaderState
from kivy_harness import running_app, screenshot, touch, wait_until

from .virtual_card import felica

pytestmark = [pytest.mark.ui, pytest.mark.timeout(120)]
YAMADA = DEMO_CARDS[0].card_id   # a FeliCa IDm registered to 山田 in the demo data


@pytest.fixture
def pcsc_app(pcsc, window, tmp_path):
    from kiosk.adapters.pcsc_reader import PcscCardReader

    reader = PcscCardReader(pcsc.pasori_name.split(" 00 ")[0], retry_interval=0.2)
    with running_app(window, tmp_path, reader=reader) as app:
        wait_until(lambda: app.reader_state is ReaderState.READY)
        yield app


def test_virtual_tap_punches_and_confirms(pcsc, pcsc_app, cards, window):
    app = pcsc_app
    touch(app.standby.punch_button(PunchKind.CLOCK_IN))
    card = cards(felica(YAMADA))
    card.insert(pcsc.pasori.port)
    wait_until(lambda: app.punch_screen.phase == "done")
    punches = app.kiosk.punches.recent_punches(5)
    assert [p.kind for p in punches] == [PunchKind.CLOCK_IN]
    assert app.punch_screen.headline == "山田 太郎 さん"
    screenshot(window, "pcsc_confirmation")
    card.remove()


def test_card_pulled_away_mid_read_asks_for_another_tap(pcsc, pcsc_app, cards):
    app = pcsc_app
    touch(app.standby.punch_button(PunchKind.CLOCK_IN))
    card = cards(felica(YAMADA, drop_on_apdu=True))
    card.insert(pcsc.pasori.port)
    wait_until(lambda: app.presenter.is_open)
    assert app.presenter.current.key == "card_read_failed"
    assert app.kiosk.punches.count() == 0


def test_pcscd_stopping_shows_reader_error_and_recovers(pcsc, pcsc_app):
    app = pcsc_app
    pcsc.daemon.stop()
    wait_until(lambda: app.reader_state is ReaderState.DISCONNECTED)
    assert app.presenter.current.key == "reader_disconnected"
    assert "カードリーダー: 切断" in app.standby.status_text or app.reader_state is ReaderState.DISCONNECTED
    pcsc.daemon.start(pcsc.default)
    wait_until(lambda: app.reader_state is ReaderState.READY, timeout=15)
