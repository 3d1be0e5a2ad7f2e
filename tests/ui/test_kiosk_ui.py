"""Real screens rendered offscreen (Mesa llvmpipe), driven by real touches; frames are advanced, never slept."""
from __future__ import annotations

import pytest

from dakoku_core.demo import DEMO_CARDS
from dakoku_core.domain.model import PunchKind
from dakoku_core.errors import KioskError, Situation
from kiosk.settings import DisplaySettings
from kivy_harness import advance, running_app, screenshot, touch, wait_until

pytestmark = [pytest.mark.ui, pytest.mark.timeout(120)]
CARD = {c.employee_code or "unknown": c.card_id for c in DEMO_CARDS}


@pytest.fixture
def app(window, tmp_path):
    with running_app(window, tmp_path) as running:
        yield running


def test_standby_renders_clock_date_and_large_buttons(app, window):
    from kivy.metrics import dp

    advance(5)
    standby = app.standby
    assert len(standby.time_text) == 8 and standby.time_text[2] == ":"
    assert "年" in standby.date_text and "月" in standby.date_text
    for kind in PunchKind:
        button = standby.punch_button(kind)
        assert button.height >= dp(150) and button.width >= dp(150), kind
    assert "未送信 0 件" in standby.status_text and "カードリーダー: 接続中" in standby.status_text
    assert screenshot(window, "standby").stat().st_size > 10_000


def test_touch_then_tap_records_and_confirms(app, window):
    touch(app.standby.punch_button(PunchKind.CLOCK_IN))
    assert app.manager.current == "punch" and app.punch_screen.phase == "wait"
    app.kiosk.reader.tap(CARD["1001"])
    wait_until(lambda: app.punch_screen.phase == "done")
    punches = app.kiosk.punches.recent_punches(5)
    assert len(punches) == 1 and punches[0].kind is PunchKind.CLOCK_IN
    assert app.punch_screen.headline == "山田 太郎 さん"
    assert app.punch_screen.kind_text == "出勤"
    assert app.punch_screen.time_text == punches[0].stamped_at.strftime("%H:%M")
    assert app.sound.played == ["ok"]
    screenshot(window, "confirmation")
    wait_until(lambda: app.manager.current == "standby")   # returns by itself
    wait_until(lambda: "山田" in app.standby.history_text)
    assert "未送信 1 件" in app.standby.status_text


def test_one_physical_burst_is_one_punch(app):
    touch(app.standby.punch_button(PunchKind.CLOCK_IN))
    for _ in range(3):
        app.kiosk.reader.tap(CARD["1002"])
    wait_until(lambda: app.punch_screen.phase == "done")
    advance(10)
    assert app.kiosk.punches.count() == 1
    assert not app.presenter.is_open


def test_rule_violation_opens_presenter_with_details(app, window):
    touch(app.standby.punch_button(PunchKind.BREAK_START))
    app.kiosk.reader.tap(CARD["1004"])   # 高橋: no break punching
    wait_until(lambda: app.presenter.is_open)
    dialog = app.presenter.dialog
    assert app.presenter.current.key == "break_not_allowed" and app.sound.played == ["error"]
    assert dialog.message == "打刻による休憩が許可されていません" and dialog.code == ""
    assert app.manager.current == "standby"
    assert app.kiosk.punches.count() == 0
    advance(5)
    touch(dialog.ids.details_button)
    assert dialog.details_open and "雇用区分設定" in dialog.remedy
    screenshot(window, "error_details")
    touch(dialog.ids.close_button)
    wait_until(lambda: not app.presenter.is_open)


def test_coded_errors_queue_and_never_stack(app, window):
    from kivy.uix.modalview import ModalView

    # the window is shared by the session's UI tests: a dialog an earlier test closed leaves once its animation ends
    wait_until(lambda: not any(isinstance(w, ModalView) for w in window.children))
    app.presenter.show(KioskError("connect_failed", situation=Situation.DATA_UPDATE))
    app.presenter.show(KioskError("ip_not_allowed", situation=Situation.DATA_UPDATE))
    advance(5)
    assert app.presenter.dialog.code == "004" and app.presenter.dialog.message == "データの更新に失敗しました"
    assert app.presenter.pending == 1
    assert sum(isinstance(w, ModalView) for w in window.children) == 1
    screenshot(window, "error_coded")
    touch(app.presenter.dialog.ids.close_button)
    wait_until(lambda: app.presenter.dialog is not None and app.presenter.dialog.code == "009")
    assert app.presenter.dialog.message == "アクセス元のIPが許可されていません"


def test_tap_on_standby_asks_for_a_punch_type(app):
    app.kiosk.reader.tap(CARD["1001"])
    wait_until(lambda: app.presenter.is_open)
    assert app.presenter.current.key == "punch_kind_not_selected"
    assert app.kiosk.punches.count() == 0


def test_error_on_punch_path_dismisses_itself(app):
    app.display = DisplaySettings(fullscreen=False, error_seconds=1)
    touch(app.standby.punch_button(PunchKind.CLOCK_IN))
    app.kiosk.reader.tap(CARD["1007"])   # 渡辺: retired
    wait_until(lambda: app.presenter.is_open)
    assert app.presenter.current.key == "after_retirement"
    wait_until(lambda: not app.presenter.is_open, timeout=10)
    assert app.manager.current == "standby"


def press_keys(screen, keys: str) -> None:
    buttons = {b.key: b for b in screen.ids.keypad.children}
    for key in keys:
        touch(buttons[key])


def test_password_punch_on_the_keypad(app, window):
    from dakoku_core.domain.model import AuthMethod

    touch(app.standby.punch_button(PunchKind.CLOCK_IN))
    touch(app.punch_screen.ids.password_button)
    screen = app.password_screen
    assert app.manager.current == "password" and screen.kind is PunchKind.CLOCK_IN
    press_keys(screen, "10022")
    touch(screen.ids.keypad.children[0])           # ⌫ (the last key of the grid)
    assert screen.entry == "1002"
    touch(screen.ids.submit_button)
    wait_until(lambda: screen.step == "password")
    assert "佐藤 花子" in screen.prompt
    press_keys(screen, "1234")
    assert screen.shown_entry == "●●●●"
    screenshot(window, "password")
    touch(screen.ids.submit_button)
    wait_until(lambda: app.punch_screen.phase == "done")
    punch = app.kiosk.punches.recent_punches(1)[0]
    assert punch.auth_method is AuthMethod.PASSWORD and punch.kind is PunchKind.CLOCK_IN
    assert app.punch_screen.kind_text == "出勤"


@pytest.mark.parametrize("code, password, key", [
    ("", None, "login_id_empty"),
    ("9999", None, "employee_not_found"),
    ("1001", None, "password_punch_not_allowed"),
    ("1002", "", "password_empty"),
    ("1002", "9", "password_wrong"),
])
def test_password_errors_are_presented(app, code, password, key):
    touch(app.standby.punch_button(PunchKind.CLOCK_IN))
    touch(app.punch_screen.ids.password_button)
    screen = app.password_screen
    press_keys(screen, code)
    touch(screen.ids.submit_button)
    if password is not None:
        wait_until(lambda: screen.step == "password")
        press_keys(screen, password)
        touch(screen.ids.submit_button)
    wait_until(lambda: app.presenter.is_open)
    assert app.presenter.current.key == key
    assert not screen.busy and screen.entry == ""     # the person can correct and try again
    assert app.kiosk.punches.count() == 0


def test_kivy_sound_adapter_synthesises_and_loads_tones(window, tmp_path):
    import wave

    from kiosk.ui.sound import KivySound

    sound = KivySound(tmp_path / "sounds")
    with wave.open(str(tmp_path / "sounds" / "ok.wav")) as ok:
        assert ok.getframerate() == 22050 and ok.getnframes() > 5000
    sound.play("ok")      # with or without an audio device: never raises
    sound.play("missing")


def test_auto_mode_by_time_of_day_punches_on_a_bare_tap(window, tmp_path):
    all_day = [{"start": "00:00", "end": "23:59", "kind": "clock_in"}]
    with running_app(window, tmp_path, auto_modes=all_day) as app:
        advance(3)
        assert "出勤" in app.standby.hint_text
        app.kiosk.reader.tap(CARD["1001"])
        wait_until(lambda: app.punch_screen.phase == "done")
        assert app.kiosk.punches.recent_punches(1)[0].kind is PunchKind.CLOCK_IN
        wait_until(lambda: app.manager.current == "standby")


def test_keep_mode_waits_again_with_the_same_type(window, tmp_path):
    with running_app(window, tmp_path, punch_mode="keep") as app:
        touch(app.standby.punch_button(PunchKind.CLOCK_IN))
        app.kiosk.reader.tap(CARD["1001"])
        wait_until(lambda: app.punch_screen.phase == "done")
        wait_until(lambda: app.punch_screen.phase == "wait")   # back to waiting, not to standby
        assert app.manager.current == "punch" and app.punch_screen.kind is PunchKind.CLOCK_IN
        app.kiosk.reader.tap(CARD["1002"])
        wait_until(lambda: app.kiosk.punches.count() == 2)
        wait_until(lambda: app.punch_screen.phase == "wait")
        touch(app.punch_screen.ids.back_button)
        assert app.manager.current == "standby"


def test_relabelled_and_hidden_buttons(window, tmp_path):
    labels = {"clock_in": "出社", "break_start": "休み"}   # the break pair's name is the server's break_labels
    with running_app(window, tmp_path, labels=labels, hidden=["clock_out"],
                     recorder_settings={"break_labels": "outing"}) as app:
        texts = {b.kind: b.text for b in app.standby.ids.punch_buttons.children}
        assert texts == {PunchKind.CLOCK_IN: "出社", PunchKind.BREAK_START: "外出開始",
                         PunchKind.BREAK_END: "外出終了"}
        screenshot(window, "standby_relabelled")
    from kiosk.ui.format import set_kind_labels

    set_kind_labels({})


def type_keys(window, text: str, gap_frames: int = 0) -> None:
    """Key events as a keyboard-wedge reader (or a person) would type them into the window."""
    for char in text:
        window.dispatch("on_key_down", 13 if char == "\n" else ord(char.lower()), 0,
                        None if char == "\n" else char, [])
        advance(gap_frames)


def test_keyboard_wedge_burst_punches(window, tmp_path):
    from kiosk.adapters.wedge_reader import WedgeCardReader

    with running_app(window, tmp_path, reader=WedgeCardReader()) as app:
        touch(app.standby.punch_button(PunchKind.CLOCK_IN))
        type_keys(window, CARD["1002"] + "\n")
        wait_until(lambda: app.punch_screen.phase == "done")
        assert app.punch_screen.headline == "佐藤 花子 さん"
        assert app.kiosk.punches.count() == 1


def test_keyboard_wedge_ignores_slow_typing(window, tmp_path):
    import time

    from kiosk.adapters.wedge_reader import WedgeCardReader

    with running_app(window, tmp_path, reader=WedgeCardReader()) as app:
        touch(app.standby.punch_button(PunchKind.CLOCK_IN))
        for char in CARD["1002"]:
            type_keys(window, char)
            deadline = time.monotonic() + 0.08   # slower than any wedge: a person at a keyboard
            while time.monotonic() < deadline:
                advance(1)
        type_keys(window, "\n")
        advance(10)
        assert app.punch_screen.phase == "wait" and app.kiosk.punches.count() == 0


def open_settings(app, pin: str) -> None:
    touch(app.standby.ids.settings_button)
    screen = app.password_screen
    assert app.manager.current == "password" and screen.purpose == "manager" and screen.step == "password"
    press_keys(screen, pin)
    touch(screen.ids.submit_button)


def test_settings_need_the_manager_pin_and_are_audited(app, window):
    open_settings(app, "1111")
    wait_until(lambda: app.presenter.is_open)
    assert app.presenter.current.key == "password_wrong" and app.manager.current == "password"
    app.presenter.dismiss()
    wait_until(lambda: not app.presenter.is_open)
    press_keys(app.password_screen, "0000")
    touch(app.password_screen.ids.submit_button)
    wait_until(lambda: app.manager.current == "settings")
    screen = app.settings_screen
    assert screen.section == "connection"                 # not provisioned yet: where a manager starts
    touch(screen._section_buttons["info"])
    wait_until(lambda: len(screen.ids.rows.children) >= 6)
    titles = [row.title for row in reversed(screen.ids.rows.children)]
    assert titles[0] == "バージョン" and "管理者操作の記録" in titles
    audit_row = next(r for r in screen.ids.rows.children if r.title == "管理者操作の記録")
    assert "設定を開く: パスワード誤り" in audit_row.value and "設定を開く: 許可" in audit_row.value
    screenshot(window, "settings_info")
    touch(screen._section_buttons["diagnosis"])
    # what it checks here: no PC/SC reader to probe (simulated), no fingerprint sensor
    assert screen.notice == "打刻データベース、時刻、サーバーへの接続、証明書とアクセス元IPの許可を確かめます"
    touch(screen.ids.actions.children[-1])            # 診断を実行
    wait_until(lambda: screen.notice == "" and len(screen.ids.rows.children) >= 2)
    badges = {row.title: row.badge for row in screen.ids.rows.children}
    assert badges["打刻データベースの整合性"] == "正常" and badges["時刻の取得元"] == "正常"
    screenshot(window, "settings_diagnosis")
    app.kiosk.reader.tap(CARD["1001"])                # a tap in the settings is not a punch
    advance(10)
    assert app.kiosk.punches.count() == 0 and not app.presenter.is_open
    touch(screen.ids.close_button)
    assert app.manager.current == "standby"
    assert app.kiosk.manager.recent(1)[0][1] == "settings.close"


def test_timecard_button_waits_for_a_card_and_says_when_offline(app, window):
    touch(app.standby.ids.timecard_button)
    screen = app.punch_screen
    assert app.manager.current == "punch" and screen.purpose == "timecard" and screen.kind_text == "タイムカード"
    assert screen.ids.password_button.text == "従業員を選択"     # or choose from the list (test_employee_selection)
    screenshot(window, "timecard_wait")
    app.kiosk.reader.tap(CARD["1001"])
    wait_until(lambda: app.presenter.is_open)
    # no connection configured (a server drop is tests/sync/test_connection_drops.py)
    assert app.presenter.current.key == "online_only"
    assert app.presenter.dialog.message == "この機能はオンライン時のみ利用できます"
    assert app.kiosk.punches.count() == 0                 # looking at the timecard is not a punch
    app.presenter.dismiss()
    wait_until(lambda: not app.presenter.is_open)
    touch(app.standby.punch_button(PunchKind.CLOCK_IN))
    assert app.punch_screen.purpose == "punch"


def test_card_registration_needs_the_server(app):
    open_settings(app, "0000")
    wait_until(lambda: app.manager.current == "settings")
    touch(app.settings_screen._section_buttons["registration"])
    wait_until(lambda: app.presenter.is_open)
    assert app.presenter.current.key == "online_only"
    assert app.presenter.dialog.message == "この機能はオンライン時のみ利用できます"


def test_help_registration_button_needs_the_server(app, window):
    touch(app.standby.ids.help_button)
    assert app.punch_screen.purpose == "help" and app.punch_screen.kind_text == "ヘルプ登録"
    app.kiosk.reader.tap(CARD["1006"])                  # 伊藤 (店舗): another department
    wait_until(lambda: app.presenter.is_open)
    assert app.presenter.current.key == "online_only"   # no connection configured
    assert app.kiosk.punches.count() == 0


@pytest.mark.parametrize("reader, sensor, hint", [
    ("pcsc", "none", "打刻データベース、時刻、サーバーへの接続、証明書、アクセス元IPの許可とカードリーダーを確かめます"),
    ("pcsc", "libfprint", "打刻データベース、時刻、サーバーへの接続、証明書、アクセス元IPの許可、カードリーダー、"
                           "指紋センサーと指紋の照合を確かめます"),
    ("simulated", "simulated", "打刻データベース、時刻、サーバーへの接続、証明書、アクセス元IPの許可、指紋センサーと"
                                   "指紋の照合を確かめます"),
])
def test_the_diagnosis_hint_names_only_what_this_kiosk_checks(reader, sensor, hint):
    from kiosk.settings import FingerprintSettings, ReaderSettings, Settings
    from kiosk.ui.manager_flow import diagnosis_hint

    settings = Settings(reader=ReaderSettings(backend=reader), fingerprint=FingerprintSettings(backend=sensor))
    assert diagnosis_hint(settings) == hint
