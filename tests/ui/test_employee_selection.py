"""パスワード認証 on the real screens: the employee chosen from the list (kana initial, then name), nobody chosen,
and a login ID with letters typed on the on-screen keypad (never Kivy's own keyboard)."""
from __future__ import annotations

import pytest

from dakoku_core.domain.model import AuthMethod, PunchKind
from kivy_harness import SHOTS, advance, laid_out, running_app, screenshot, touch, wait_until

pytestmark = [pytest.mark.ui, pytest.mark.timeout(120)]
MIN_KEY_DP = 76   # 12 mm on a 160 dpi panel


@pytest.fixture
def app(window, tmp_path):
    with running_app(window, tmp_path) as running:
        yield running


def portrait_shot(app, name: str) -> None:
    """The offscreen window's GL surface keeps its first size: a portrait shot is rendered through an Fbo."""
    advance(20)
    SHOTS.mkdir(parents=True, exist_ok=True)
    app.root.export_to_png(str(SHOTS / f"{name}.png"))
    assert (SHOTS / f"{name}.png").stat().st_size > 10_000


def key_button(screen, key: str):
    wait_until(lambda: any(getattr(b, "key", None) == key for b in screen.ids.keypad.children))
    return next(b for b in screen.ids.keypad.children if b.key == key)


def type_keys(screen, keys: str) -> None:
    for key in keys:
        touch(key_button(screen, key))


def open_password(app, kind: PunchKind):
    touch(app.standby.punch_button(kind))
    touch(app.punch_screen.ids.password_button)
    assert app.manager.current == "password"
    return app.password_screen


def choose_from_list(screen, row: str, name: str) -> None:
    touch(screen.ids.list_button)
    picker = screen.picker
    wait_until(lambda: picker.parent is not None and picker.notice != "")
    advance(3)
    touch(picker.row_button(row))
    wait_until(lambda: any(name in b.text for b in picker.ids.names.children))
    advance(3)
    touch(laid_out(picker.name_button(name)))


def error_shown(app) -> tuple[str, str]:
    wait_until(lambda: app.presenter.is_open)
    return app.presenter.current.key, app.presenter.dialog.message


def test_password_punch_by_choosing_the_employee_from_the_list(app, window):
    screen = open_password(app, PunchKind.CLOCK_IN)
    choose_from_list(screen, "サ", "佐藤")
    assert screen.picker.chosen.code == "1002" and screen.shown_entry == "佐藤 花子"
    assert sorted(b.text for b in screen.picker.ids.names.children) == ["佐藤 花子   (1002)", "鈴木 一郎   (1003)"]
    screenshot(window, "password_choose_landscape")
    window.size = (800, 1280)
    try:
        advance(5)
        for button in (*screen.picker.ids.rows.children, *screen.picker.ids.names.children):
            assert button.height >= MIN_KEY_DP and button.width >= MIN_KEY_DP
        portrait_shot(app, "password_choose_portrait")
    finally:
        window.size = (1280, 800)
        advance(5)
    touch(screen.ids.submit_button)
    wait_until(lambda: screen.step == "password")
    assert "佐藤 花子" in screen.prompt and not screen.choosing   # the keypad is back for the password
    type_keys(screen, "1234")
    touch(screen.ids.submit_button)
    wait_until(lambda: app.punch_screen.phase == "done")
    punch = app.kiosk.punches.recent_punches(1)[0]
    assert (punch.employee_key, punch.auth_method, punch.kind) == ("E1002", AuthMethod.PASSWORD, PunchKind.CLOCK_IN)


def test_next_with_nobody_chosen_is_employee_not_selected(app):
    screen = open_password(app, PunchKind.CLOCK_OUT)
    touch(screen.ids.list_button)
    wait_until(lambda: screen.picker.notice != "")
    touch(screen.ids.submit_button)                 # no row, no name
    assert error_shown(app) == ("employee_not_selected", "従業員が選択されていません")
    app.presenter.dismiss()
    wait_until(lambda: not app.presenter.is_open)
    touch(screen.picker.row_button("ヤ"))
    wait_until(lambda: screen.picker.ids.names.children)
    touch(screen.ids.submit_button)                 # a row, but still no name
    assert error_shown(app)[0] == "employee_not_selected"
    assert screen.step == "code" and app.kiosk.punches.count() == 0


def test_login_id_with_letters_typed_on_the_keypad(app, window):
    from kivy.uix.vkeyboard import VKeyboard

    screen = open_password(app, PunchKind.CLOCK_IN)
    touch(screen.ids.letters_button)
    advance(5)
    keys = screen.ids.keypad.children
    assert len(keys) == 32 and all(b.width >= MIN_KEY_DP and b.height >= MIN_KEY_DP for b in keys)
    type_keys(screen, "sato")
    assert screen.shown_entry == "sato"
    screenshot(window, "password_letters_landscape")
    window.size = (800, 1280)
    try:
        advance(5)
        assert all(b.width >= MIN_KEY_DP and b.height >= MIN_KEY_DP for b in screen.ids.keypad.children)
        portrait_shot(app, "password_letters_portrait")
    finally:
        window.size = (1280, 800)
        advance(5)
    assert not any(isinstance(w, VKeyboard) for w in window.children)   # Kivy's English keyboard never shows
    touch(screen.ids.submit_button)
    wait_until(lambda: screen.step == "password")
    assert "佐藤 花子" in screen.prompt
    touch(screen.ids.letters_button)                # digits again for the PIN
    type_keys(screen, "1234")
    touch(screen.ids.submit_button)
    wait_until(lambda: app.punch_screen.phase == "done")
    assert app.kiosk.punches.recent_punches(1)[0].employee_key == "E1002"


def test_capitals_with_shift_and_an_unknown_login_id(app):
    screen = open_password(app, PunchKind.CLOCK_IN)
    touch(screen.ids.letters_button)
    touch(key_button(screen, "shift"))
    type_keys(screen, "S")
    touch(key_button(screen, "shift"))
    type_keys(screen, "ato")
    assert screen.entry == "Sato"                   # login IDs are case-sensitive: not 佐藤's
    touch(screen.ids.submit_button)
    assert error_shown(app) == ("employee_not_found", "該当する従業員が見つかりません")
