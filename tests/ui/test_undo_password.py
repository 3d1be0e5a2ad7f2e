"""パスワード認証 on a confirmation still offering 取り消し (issue 12): the button stays there and usable, and the next
person's punch by password ends the offer, as the next card or finger does; the punch on offer stays. Also: while
a card's punch is being committed the wait screen's buttons stay as they were (no frame drawn in between) but do
nothing. Real touches on the offline demo; frames advanced."""
from __future__ import annotations

import pytest

from dakoku_core.demo import DEMO_CARDS
from dakoku_core.domain.model import AuthMethod, PunchKind
from kivy_harness import advance, running_app, touch, wait_until

pytestmark = [pytest.mark.ui, pytest.mark.timeout(120)]
CARD = {c.employee_code or "unknown": c.card_id for c in DEMO_CARDS}


def _press(screen, keys: str) -> None:
    buttons = {b.key: b for b in screen.ids.keypad.children}
    for key in keys:
        touch(buttons[key])


def _password_punch(app, code: str, password: str) -> None:
    screen = app.password_screen
    _press(screen, code)
    touch(screen.ids.submit_button)
    wait_until(lambda: screen.step == "password")
    _press(screen, password)
    touch(screen.ids.submit_button)


def test_a_password_punch_during_the_offer_ends_it_and_keeps_the_punch(window, tmp_path):
    with running_app(window, tmp_path, undo_seconds=8, punch_mode="keep") as app:
        touch(app.standby.punch_button(PunchKind.CLOCK_IN))
        app.kiosk.reader.tap(CARD["1001"])
        wait_until(lambda: app.punch_screen.phase == "done" and app.punch_screen.undo_text)
        [first] = app.kiosk.punches.recent_punches(1)
        button = app.punch_screen.ids.password_button
        assert not button.disabled and button.opacity == 1 and button.width > 100
        undo = app.punch_screen.ids.undo_button
        assert undo.right <= button.x or button.right <= undo.x   # side by side, not over each other
        touch(button)
        wait_until(lambda: app.manager.current == "password")
        assert app.password_screen.kind is PunchKind.CLOCK_IN   # モード動作: the kept type
        assert not app.punch_screen.undo_text                   # the offer has ended
        _password_punch(app, "1002", "1234")
        wait_until(lambda: app.punch_screen.phase == "done" and "佐藤" in app.punch_screen.headline)
        latest = app.kiosk.punches.recent_punches(2)
        assert [p.auth_method for p in latest] == [AuthMethod.PASSWORD, AuthMethod.CARD]
        assert app.kiosk.punches.correction_for(first.uuid) is None


def test_each_time_mode_asks_for_the_type_rather_than_reuse_the_last_persons(window, tmp_path):
    with running_app(window, tmp_path, undo_seconds=8) as app:
        touch(app.standby.punch_button(PunchKind.CLOCK_IN))
        app.kiosk.reader.tap(CARD["1003"])
        wait_until(lambda: app.punch_screen.phase == "done" and app.punch_screen.undo_text)
        touch(app.punch_screen.ids.password_button)
        wait_until(lambda: app.presenter.is_open)
        assert app.presenter.current.key == "punch_kind_not_selected"
        assert app.manager.current == "standby" and not app.punch_screen.undo_text


def test_the_wait_screens_buttons_do_nothing_while_the_punch_is_committed(window, tmp_path):
    with running_app(window, tmp_path) as app:
        touch(app.standby.punch_button(PunchKind.CLOCK_IN))
        screen = app.punch_screen
        assert screen.accept_credential() and screen.phase == "busy"   # as a card's tap does
        back, password = screen.ids.back_button, screen.ids.password_button
        assert back.opacity == password.opacity == 1                   # unchanged: nothing to redraw
        touch(back)
        touch(password)
        advance(5)
        assert app.manager.current == "punch" and screen.phase == "busy"
