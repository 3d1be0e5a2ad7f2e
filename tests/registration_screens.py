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


def enrol_look_alike_gallery(app, fingers: int = 24) -> None:
    """``fingers`` synthetic fingers stored for 山田, 佐藤 and 鈴木 (enough for the gallery's self-check), and
    山田's first finger stored again for 田中 past the duplicate check (as a mix-up on two kiosks, synced, would):
    the pair the self-check must name in 自己診断. Waits until the check of that gallery is done."""
    service, master = app.kiosk.fingerprint, app.kiosk.master
    owners = [master.employee_by_code_or_login(code) for code in ("1001", "1002", "1003")]
    for n in range(fingers):
        owner = owners[n % 3]
        templates = [service.extractor.extract(service.sensor.impression(n + 1, j)) for j in (100, 101)]
        service.store.add(owner.key, n // 3, owner.department_code, templates)
    twin = master.employee_by_code_or_login("1005")
    templates = [service.extractor.extract(service.sensor.impression(1, j)) for j in (104, 105)]
    service.store.add(twin.key, 0, twin.department_code, templates)
    service.warm_up()
    # Blocking, not frames: the check's thread runs at nice 19, and frames drawn meanwhile (llvmpipe's threads at
    # normal priority) would take the cores from it on a busy machine (a CI run starved it past 120 s).
    assert service.self_checks.finished.wait(timeout=240), "the gallery's self-check did not finish"
    assert service.self_checks.current is not None
