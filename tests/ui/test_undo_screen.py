"""取り消し on the real confirmation screen (issue 12), offline demo data: the button counts down and goes, a touch
records the correction and says so, and a refusal reaches the error presenter. Real touches; frames advanced."""
from __future__ import annotations

from datetime import timedelta

import pytest

from dakoku_core.demo import DEMO_CARDS
from dakoku_core.domain.model import PunchKind, TimeSource
from dakoku_core.i18n import tr
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


def test_the_next_persons_card_ends_the_offer_and_punches_in_keep_mode(window, tmp_path):
    """モード動作: 取り消し is on offer for 山田's 出勤 when 佐藤 taps her card. The offer ends and her card punches the kept
    type at once (it used to be ignored for the offer's seconds), and 山田's punch stands."""
    with running_app(window, tmp_path, undo_seconds=8, punch_mode="keep") as app:
        _punch(app, PunchKind.CLOCK_IN, CARD["1001"])
        wait_until(lambda: app.punch_screen.undo_text.startswith("取り消し"))
        [first] = app.kiosk.punches.recent_punches(1)
        app.kiosk.reader.tap(CARD["1002"])
        wait_until(lambda: app.kiosk.punches.count() == 2, timeout=4)   # well inside the 8 s offer
        wait_until(lambda: "佐藤" in app.punch_screen.headline)
        second = app.kiosk.punches.recent_punches(1)[0]
        assert (second.kind, second.employee_key != first.employee_key) == (PunchKind.CLOCK_IN, True)
        assert app.flow.undo.result is not None and app.flow.undo.result.punch.uuid == second.uuid   # hers now
        assert app.kiosk.punches.correction_for(first.uuid) is None and not app.presenter.is_open


def test_the_next_persons_card_in_choose_mode_ends_the_offer_and_asks_for_a_type(window, tmp_path):
    """都度選択: the type chosen was 山田's. 鈴木's card during the offer ends it, goes back to standby and gets the
    usual 「打刻種別を選択してください」, at once; nothing is punched or cancelled for him."""
    with running_app(window, tmp_path, undo_seconds=8) as app:
        _punch(app, PunchKind.CLOCK_IN, CARD["1001"])
        wait_until(lambda: app.punch_screen.undo_text.startswith("取り消し"))
        [first] = app.kiosk.punches.recent_punches(1)
        app.kiosk.reader.tap(CARD["1003"])
        wait_until(lambda: app.presenter.is_open, timeout=4)
        assert app.presenter.current.key == "punch_kind_not_selected"
        assert app.manager.current == "standby" and app.flow.undo.result is None and not app.punch_screen.undo_text
        assert app.kiosk.punches.count() == 1 and app.kiosk.punches.correction_for(first.uuid) is None


def test_the_next_persons_card_punches_the_time_of_days_type(window, tmp_path):
    """A time-of-day mode chooses the type for the next person too: 鈴木's card during the offer punches 出勤."""
    all_day = [{"start": "00:00", "end": "23:59", "kind": "clock_in"}]
    with running_app(window, tmp_path, undo_seconds=8, auto_modes=all_day) as app:
        app.kiosk.reader.tap(CARD["1001"])
        wait_until(lambda: app.punch_screen.undo_text.startswith("取り消し"))
        app.kiosk.reader.tap(CARD["1003"])
        wait_until(lambda: app.kiosk.punches.count() == 2, timeout=4)
        wait_until(lambda: "鈴木" in app.punch_screen.headline)
        assert app.kiosk.punches.recent_punches(1)[0].kind is PunchKind.CLOCK_IN


def test_the_next_persons_finger_ends_the_offer_and_punches(window, tmp_path):
    """The same with a finger: while 取り消し is on offer for 山田's card punch, 佐藤 (demo finger 2) places her
    finger; the offer ends and her finger punches the kept type."""
    from dakoku_core.domain.model import AuthMethod
    from kiosk.settings import FingerprintSettings

    settings = FingerprintSettings(backend="simulated", demo_fingers=2)
    with running_app(window, tmp_path, fingerprint=settings, undo_seconds=15, punch_mode="keep") as app:
        wait_until(lambda: not app.kiosk.fingerprint_warm_up.running, timeout=40)
        _punch(app, PunchKind.CLOCK_IN, CARD["1001"])
        wait_until(lambda: app.punch_screen.undo_text.startswith("取り消し"))
        wait_until(lambda: app.finger_flow._cancel is not None)   # the offer's confirmation waits for a finger
        app.kiosk.fingerprint.sensor.place_finger(2)
        wait_until(lambda: app.kiosk.punches.count() == 2, timeout=12)
        punch = app.kiosk.punches.recent_punches(1)[0]
        assert (punch.kind, punch.auth_method, punch.employee_key) == (PunchKind.CLOCK_IN, AuthMethod.FINGERPRINT,
                                                                      "E1002")
