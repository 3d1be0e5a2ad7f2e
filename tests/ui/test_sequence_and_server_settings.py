"""打刻時警告 and the server's recorder settings on real screens (offscreen, real touches, frames advanced):
退勤 with no 出勤 asks, いいえ saves nothing, はい saves (card, finger and password); a データ更新 bringing
``break_labels: outing`` renames the break buttons; refused punches show as 送信エラー and in 設定 › 情報."""
from __future__ import annotations

import time

import pytest

from kiosk.adapters.ledger.outbox import SqliteOutbox
from dakoku_core.demo import DEMO_CARDS, TYPES
from dakoku_core.domain.model import AuthMethod, EmploymentType, PunchKind
from dakoku_core.errors import KioskError
from dakoku_core.protocol.recorder_settings import defaults
from kiosk.ports.recorder_api import MasterSnapshot
from kiosk.settings import FingerprintSettings
from kivy_harness import advance, running_app, screenshot, touch, wait_until

pytestmark = [pytest.mark.ui, pytest.mark.timeout(400)]
CARD = {c.employee_code or "unknown": c.card_id for c in DEMO_CARDS}
def settle(seconds: float) -> None:
    """Frames for ``seconds`` of real time: events from device threads arrive meanwhile."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        advance(1)


QUESTION = "『出勤』の記録がありません。『退勤』処理を行ってよろしいですか？"


def test_clock_out_without_clock_in_asks_no_saves_nothing_yes_saves(window, tmp_path):
    from kivy.metrics import dp

    with running_app(window, tmp_path) as app:
        ask = app.flow.question
        touch(app.standby.punch_button(PunchKind.CLOCK_OUT))
        app.kiosk.reader.tap(CARD["1001"])
        wait_until(lambda: ask.is_open)
        dialog = ask.dialog
        assert dialog.message == QUESTION and app.kiosk.punches.count() == 0
        assert dialog.ids.yes_button.height >= dp(100) and dialog.ids.no_button.width >= dp(200)   # for a thumb
        app.kiosk.reader.tap(CARD["1002"])          # a tap while the question is open is nobody's punch
        settle(1.0)                                 # (the reader's thread delivers it meanwhile)
        assert ask.is_open and not app.presenter.is_open
        screenshot(window, "sequence_question")
        touch(dialog.ids.no_button)                 # いいえ
        wait_until(lambda: not ask.is_open and app.manager.current == "standby")
        advance(10)
        assert app.kiosk.punches.count() == 0

        touch(app.standby.punch_button(PunchKind.CLOCK_OUT))
        app.kiosk.reader.tap(CARD["1001"])
        wait_until(lambda: ask.is_open)
        touch(ask.dialog.ids.yes_button)            # はい
        wait_until(lambda: app.punch_screen.phase == "done")
        [punch] = app.kiosk.punches.recent_punches(5)
        assert (punch.employee_key, punch.kind) == ("E1001", PunchKind.CLOCK_OUT)
        assert app.punch_screen.kind_text == "退勤" and app.sound.played == ["error", "error", "ok"]   # 2 questions
        wait_until(lambda: app.manager.current == "standby")

        touch(app.standby.punch_button(PunchKind.BREAK_END))   # nobody answers: nothing is saved
        app.kiosk.reader.tap(CARD["1002"])
        wait_until(lambda: ask.is_open)
        assert ask.dialog.message == "『休憩開始』の記録がありません。『休憩終了』処理を行ってよろしいですか？"
        assert ask.dialog.seconds_left > 10                  # the punch wait time (20 s) to answer...
        ask.dialog.seconds_left = 2                          # ...most of which has passed
        wait_until(lambda: not ask.is_open, timeout=10)
        advance(10)
        assert app.kiosk.punches.count() == 1 and app.manager.current == "standby"


def test_a_finger_punch_is_asked_too(window, tmp_path):
    settings = FingerprintSettings(backend="simulated", demo_fingers=1)
    with running_app(window, tmp_path, fingerprint=settings) as app:
        # the demo finger is grown and enrolled in the background (~10 s; minutes on a loaded machine)
        wait_until(lambda: not app.kiosk.fingerprint_warm_up.running, timeout=200)
        touch(app.standby.punch_button(PunchKind.CLOCK_OUT))
        wait_until(lambda: app.finger_flow._cancel is not None)
        finger = next(b for b in app.demo_panel.walk() if getattr(b, "finger", None) == 1)
        touch(finger)                               # 山田's finger
        wait_until(lambda: app.flow.question.is_open, timeout=40)
        assert app.flow.question.dialog.message == QUESTION and app.kiosk.punches.count() == 0
        touch(app.flow.question.dialog.ids.yes_button)
        wait_until(lambda: app.punch_screen.phase == "done")
        [punch] = app.kiosk.punches.recent_punches(5)
        assert (punch.employee_key, punch.kind, punch.auth_method) == ("E1001", PunchKind.CLOCK_OUT,
                                                                       AuthMethod.FINGERPRINT)


def test_a_password_punch_is_asked_too(window, tmp_path):
    with running_app(window, tmp_path) as app:
        touch(app.standby.punch_button(PunchKind.CLOCK_OUT))
        touch(app.punch_screen.ids.password_button)
        screen = app.password_screen
        press(screen, "1002")                       # 佐藤: password punching allowed
        touch(screen.ids.submit_button)
        wait_until(lambda: screen.step == "password")
        press(screen, "1234")
        touch(screen.ids.submit_button)
        wait_until(lambda: app.flow.question.is_open)
        assert app.flow.question.dialog.message == QUESTION and app.kiosk.punches.count() == 0
        touch(app.flow.question.dialog.ids.yes_button)
        wait_until(lambda: app.punch_screen.phase == "done")
        [punch] = app.kiosk.punches.recent_punches(5)
        assert (punch.employee_key, punch.kind, punch.auth_method) == ("E1002", PunchKind.CLOCK_OUT,
                                                                       AuthMethod.PASSWORD)


def press(screen, keys: str) -> None:
    for key in keys:
        touch(next(b for b in screen.ids.keypad.children if getattr(b, "key", None) == key))


class FakeServer:
    """Answers データ更新 with the cached data and new recorder settings (the real server's pull is
    tests/sync/test_one_set_of_rules.py); anything else the kiosk asks is "cannot connect"."""

    def __init__(self, master, settings: dict):
        self.snapshot = MasterSnapshot(
            version=2, full=False, etag="v2", recorder=master.recorder(), card_key=master.card_key(),
            departments=tuple(master.departments()),
            employment_types=tuple(EmploymentType(*row) for row in TYPES), employees=(), credentials=(),
            help_registrations=(), recorder_settings=settings)

    def master_data(self, **_kwargs):
        return self.snapshot

    def close(self) -> None:
        pass

    def __getattr__(self, name):
        def unreachable(*_args, **_kwargs):
            raise KioskError("connect_failed")
        return unreachable


def test_server_break_labels_and_history_setting_apply_after_a_data_update(window, tmp_path):
    with running_app(window, tmp_path) as app:
        assert app.standby.punch_button(PunchKind.BREAK_START).text == "休憩開始" and app.standby.show_history
        slot = app.kiosk.sync.slot
        slot.set(FakeServer(app.kiosk.master, {**defaults(), "break_labels": "outing",
                                               "show_punch_history": False}))
        try:
            app.kiosk.sync.data_update.update()
        finally:
            slot.set(None)
        wait_until(lambda: app.standby.punch_button(PunchKind.BREAK_START).text == "外出開始")
        assert app.standby.punch_button(PunchKind.BREAK_END).text == "外出終了"
        advance(5)
        assert not app.standby.show_history and app.standby.ids.history_panel.width == 0
        assert app.kiosk.master.recorder_settings().break_labels == "outing"   # kept for the next start
        screenshot(window, "standby_outing")


def test_refused_punches_show_in_the_status_line_and_in_settings_info(window, tmp_path):
    with running_app(window, tmp_path) as app:
        touch(app.standby.punch_button(PunchKind.CLOCK_IN))
        app.kiosk.reader.tap(CARD["1001"])
        wait_until(lambda: app.punch_screen.phase == "done")
        wait_until(lambda: app.manager.current == "standby")
        assert "送信エラー" not in app.standby.status_text
        punch = app.kiosk.punches.recent_punches(1)[0]
        SqliteOutbox(app.kiosk.ledger_db).mark(rejected=[(punch.uuid, "after_retirement")])   # as a sync marks it
        app.refresh_status()
        wait_until(lambda: "送信エラー 1 件" in app.standby.status_text)
        assert "未送信 0 件" in app.standby.status_text
        screenshot(window, "standby_refused")

        touch(app.standby.ids.settings_button)
        screen = app.password_screen
        press(screen, "0000")
        touch(screen.ids.submit_button)
        wait_until(lambda: app.manager.current == "settings")
        touch(app.settings_screen._section_buttons["info"])
        wait_until(lambda: any(r.title.startswith("送信エラー") for r in app.settings_screen.ids.rows.children))
        row = next(r for r in app.settings_screen.ids.rows.children if r.title.startswith("送信エラー"))
        reason = KioskError("after_retirement").message("ja")
        assert "山田 太郎" in row.value and "出勤" in row.value and reason in row.value
        assert f"{punch.stamped_at:%H:%M}" in row.value
        screenshot(window, "settings_refused")
        touch(app.settings_screen.ids.close_button)
