"""取り消し on the real confirmation screen (issue 12), offline demo data: the button counts down and goes, a touch
records the correction and says so, and a refusal reaches the error presenter. Real touches; frames advanced."""
from __future__ import annotations

from datetime import timedelta

import pytest

from kiosk.demo import DEMO_CARDS
from kiosk.domain.model import PunchKind, TimeSource
from kiosk.i18n import tr
from kivy_harness import advance, running_app, screenshot, touch, wait_until

pytestmark = [pytest.mark.ui, pytest.mark.timeout(120)]
CARD = {c.employee_code or "unknown": c.card_id for c in DEMO_CARDS}


def _punch(app, kind: PunchKind, card: str) -> None:
    touch(app.standby.punch_button(kind))
    app.kiosk.reader.tap(card)
    wait_until(lambda: app.punch_screen.phase == "done")


def test_the_offer_counts_down_then_goes_and_the_punch_stays(window, tmp_path):
    with running_app(window, tmp_path, undo_seconds=4) as app:
        _punch(app, PunchKind.CLOCK_IN, CARD["1001"])
        button = app.punch_screen.ids.undo_button
        # the window runs from the stamp: what is left of 4 s when the confirmation is drawn (a loaded machine)
        assert app.punch_screen.undo_text in ("取り消し (4)", "取り消し (3)", "取り消し (2)")
        assert button.opacity == 1 and not button.disabled and button.width > 100
        screenshot(window, "undo_offer")
        wait_until(lambda: app.punch_screen.undo_text == "取り消し (1)", timeout=5)
        assert app.manager.current == "punch"            # the confirmation stays while 取り消し is offered
        wait_until(lambda: app.manager.current == "standby", timeout=5)
        assert not app.punch_screen.undo_text and button.size == [0, 0]
        assert len(app.kiosk.punches.recent_punches(5)) == 1
        assert app.kiosk.punches.correction_for(app.kiosk.punches.recent_punches(1)[0].uuid) is None


def test_a_touch_cancels_and_the_history_forgets_the_punch(window, tmp_path):
    with running_app(window, tmp_path, undo_seconds=5) as app:
        _punch(app, PunchKind.CLOCK_IN, CARD["1003"])
        wait_until(lambda: app.punch_screen.undo_text.startswith("取り消し"))
        [punch] = app.kiosk.punches.recent_punches(1)
        touch(app.punch_screen.ids.undo_button)
        wait_until(lambda: app.punch_screen.greeting == tr("undo.done"))
        assert app.kiosk.punches.correction_for(punch.uuid).cancels == punch.uuid
        assert app.sound.played[-1] == "ok" and not app.presenter.is_open
        touch(app.punch_screen.ids.undo_button)              # a second touch: the button is gone, nothing more
        advance(5)
        wait_until(lambda: app.manager.current == "standby", timeout=5)
        wait_until(lambda: "鈴木" not in app.standby.history_text)
        rows = app.kiosk.ledger_db.db.execute_sql("SELECT kind, cancels FROM punch ORDER BY seq").fetchall()
        assert rows == [("clock_in", None), ("cancel", punch.uuid)]


def test_a_time_step_before_the_touch_refuses_the_undo_visibly(window, tmp_path):
    """The time sync stepped the kiosk's clock 30 s ahead between the punch and the touch: the correction would
    be stamped outside the window, so it is refused with 「打刻を取り消せませんでした」 (B), and the punch stays."""
    with running_app(window, tmp_path, undo_seconds=5) as app:
        _punch(app, PunchKind.CLOCK_IN, CARD["1002"])
        wait_until(lambda: app.punch_screen.undo_text.startswith("取り消し"))
        app.kiosk.clock.apply(app.kiosk.clock.offset.total_seconds() + 30, TimeSource.NTP)
        touch(app.punch_screen.ids.undo_button)
        wait_until(lambda: app.presenter.is_open)
        error = app.presenter.current
        assert (error.key, error.cause_letter, error.message("ja")) == ("correction_refused", "B",
                                                                         "打刻を取り消せませんでした")
        assert app.sound.played[-1] == "error"
        [punch] = app.kiosk.punches.recent_punches(1)
        assert app.kiosk.punches.correction_for(punch.uuid) is None
        assert timedelta(0) <= app.kiosk.clock.read().at - punch.stamped_at
