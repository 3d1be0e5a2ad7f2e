"""Only a fresh tap punches, per card reader backend, on the real (offscreen) screens: the real PC/SC stack (private
pcscd, vpcd PaSoRi, a virtual FeliCa card) and the keyboard-wedge reader fed by real window key events."""
from __future__ import annotations

import time

import pytest

from dakoku_core.demo import DEMO_CARDS
from dakoku_core.domain.model import AuthMethod, PunchKind
from kiosk.ports import ReaderState
from kivy_harness import advance, running_app, touch, wait_until
from registration_screens import open_settings

from .virtual_card import felica

pytestmark = [pytest.mark.ui, pytest.mark.timeout(120)]
CARD = {c.employee_code or "unknown": c.card_id for c in DEMO_CARDS}


def settle(seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        advance(1)


@pytest.fixture
def pcsc_app(pcsc, window, tmp_path):
    from kiosk.adapters.pcsc_reader import PcscCardReader

    reader = PcscCardReader(pcsc.pasori_name.split(" 00 ")[0], retry_interval=0.2)
    with running_app(window, tmp_path, reader=reader) as app:
        wait_until(lambda: app.reader_state is ReaderState.READY)
        yield app


def test_a_card_left_on_the_reader_before_the_wait_does_not_punch_until_tapped_again(pcsc, pcsc_app, cards):
    app = pcsc_app
    open_settings(app)
    card = cards(felica(CARD["1001"]))
    card.insert(pcsc.pasori.port)                       # put down on the reader in 設定, and left there
    pcsc.wait_card(True)
    settle(0.5)
    touch(app.settings_screen.ids.close_button)
    wait_until(lambda: app.manager.current == "standby")
    touch(app.standby.punch_button(PunchKind.CLOCK_IN))  # the wait begins with the card lying on the reader
    settle(1.5)
    assert app.punch_screen.phase == "wait" and app.kiosk.punches.count() == 0 and not app.presenter.is_open
    card.remove()                                       # lifted ...
    pcsc.wait_empty()
    settle(1.2)                                         # (past the reader's 1 s debounce of the same card)
    card.insert(pcsc.pasori.port)                       # ... and tapped again: a fresh tap punches
    wait_until(lambda: app.punch_screen.phase == "done", timeout=20)
    punches = app.kiosk.punches.recent_punches(5)
    assert [(p.employee_key, p.auth_method, p.kind) for p in punches] == [
        ("E1001", AuthMethod.CARD, PunchKind.CLOCK_IN)]
    card.remove()


def type_keys(window, text: str) -> None:
    """Key events as a keyboard-wedge reader types them (no frame in between: one burst)."""
    for char in text:
        window.dispatch("on_key_down", 13 if char == "\n" else ord(char.lower()), 0,
                        None if char == "\n" else char, [])


def tap_at_once(widget) -> None:
    """A touch on ``widget`` handled in the same frame as what came just before it (no frame advanced)."""
    from kivy.tests.common import UnitTestTouch

    t = UnitTestTouch(*widget.to_window(*widget.center))
    t.touch_down()
    t.touch_up()


def test_a_wedge_burst_typed_before_the_type_was_chosen_does_not_punch(window, tmp_path):
    """The burst is read on standby (都度選択), its event reaches the flow through the bridge one frame later, after
    出勤 was touched: it was read before that wait began and is discarded; a burst typed during the wait punches."""
    from kiosk.adapters.wedge_reader import WedgeCardReader

    with running_app(window, tmp_path, reader=WedgeCardReader()) as app:
        advance(5)
        type_keys(window, CARD["1002"] + "\n")          # 佐藤's card, read while standby waits for a type
        tap_at_once(app.standby.punch_button(PunchKind.CLOCK_IN))
        settle(0.5)
        assert app.manager.current == "punch" and app.punch_screen.phase == "wait"
        assert app.kiosk.punches.count() == 0 and not app.presenter.is_open
        settle(1.1)                                     # (past the wedge's 1 s debounce of the same card)
        type_keys(window, CARD["1002"] + "\n")
        wait_until(lambda: app.punch_screen.phase == "done", timeout=20)
        assert [p.employee_key for p in app.kiosk.punches.recent_punches(5)] == ["E1002"]
