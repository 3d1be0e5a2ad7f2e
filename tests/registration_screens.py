"""Driving 設定 → 認証登録 on real screens (shared by the UI tests with and without a server)."""
from __future__ import annotations

from kivy_harness import touch, wait_until

MANAGER_PIN = "0000"   # the demo's


def open_settings(app) -> None:
    """設定, through the manager PIN on the keypad."""
    touch(app.standby.ids.settings_button)
    keys = {b.key: b for b in app.password_screen.ids.keypad.children}
    for key in MANAGER_PIN:
        touch(keys[key])
    touch(app.password_screen.ids.submit_button)
    wait_until(lambda: app.manager.current == "settings")


def open_registration(app) -> None:
    """設定 (manager PIN) → 認証登録."""
    open_settings(app)
    touch(app.settings_screen._section_buttons["registration"])


def choose_employee(app, kana_row: str, name: str) -> None:
    """In the open 認証登録 section: the kana row, then the employee."""
    screen = app.settings_screen
    wait_until(lambda: any(b.text == kana_row for b in screen.ids.actions.children), timeout=20)
    touch(next(b for b in screen.ids.actions.children if b.text == kana_row))
    wait_until(lambda: any(name in getattr(b, "text", "") for b in screen.ids.rows.children))
    touch(next(b for b in screen.ids.rows.children if name in b.text))
    wait_until(lambda: any(b.text == "一覧に戻る" for b in screen.ids.actions.children))


def action(app, text: str):
    """The enabled action button labelled ``text`` (waits for it)."""
    screen = app.settings_screen
    wait_until(lambda: any(b.text == text and not b.disabled for b in screen.ids.actions.children), timeout=20)
    return next(b for b in screen.ids.actions.children if b.text == text)


def actions(app) -> list[str]:
    return [b.text for b in reversed(app.settings_screen.ids.actions.children)]


def enrol_on_screen(app, finger: int) -> None:
    """指紋を登録, then place the simulated sensor's synthetic ``finger`` at each capture."""
    screen = app.settings_screen
    touch(action(app, "指紋を登録"))
    for step in range(1, 5):
        wait_until(lambda: screen.notice == f"{step}/4 回目: 指を置いてください", timeout=20)
        app.kiosk.fingerprint.sensor.place_finger(finger)
