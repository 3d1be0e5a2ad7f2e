"""タイムカード by choosing the employee, and 認証登録 by typing the 従業員コード, on the real screens against the real
reference server over TLS. The browser is the real adapter: a fake browser program that records the URL, no
browser at all, and one that fails to start."""
from __future__ import annotations

from pathlib import Path

import pytest
import requests

from kiosk.adapters.connection_file import ConnectionFile
from kiosk.ports.recorder_api import ConnectionSettings
from kivy_harness import SHOTS, advance, running_app, screenshot, touch, wait_until
from registration_screens import open_registration

pytestmark = [pytest.mark.ui, pytest.mark.timeout(300)]


def provision(sync_server, tmp_path: Path) -> None:
    ConnectionFile(tmp_path).save(ConnectionSettings(sync_server.demo.connection_text,
                                                     sync_server.demo.certificate_text))


def fake_program(directory: Path, name: str, body: str) -> Path:
    directory.mkdir(exist_ok=True)
    program = directory / name
    program.write_text("#!/bin/sh\n" + body + "\n")
    program.chmod(0o755)
    return program


def press(keypad, keys) -> None:
    """Touch each key of ``keys`` (a string of characters, or a list such as ["clear"])."""
    for key in keys:
        touch(next(b for b in keypad.children if b.key == key))


def error_shown(app) -> tuple[str, str]:
    wait_until(lambda: app.presenter.is_open, timeout=30)
    return app.presenter.current.key, app.presenter.dialog.message


def dismiss(app) -> None:
    app.presenter.dismiss()
    wait_until(lambda: not app.presenter.is_open)


def timecard_for_sato(app) -> None:
    """タイムカード → 従業員を選択 → サ → 佐藤 → 次へ → 1234 → OK."""
    touch(app.standby.ids.timecard_button)
    touch(app.punch_screen.ids.password_button)
    screen = app.password_screen
    assert (app.manager.current, screen.purpose, screen.choosing) == ("password", "timecard", True)
    wait_until(lambda: screen.picker.notice != "")
    advance(3)
    touch(screen.picker.row_button("サ"))
    wait_until(lambda: any("佐藤" in b.text for b in screen.picker.ids.names.children))
    advance(3)
    touch(screen.picker.name_button("佐藤"))
    touch(screen.ids.submit_button)
    wait_until(lambda: screen.step == "password", timeout=30)
    press(screen.ids.keypad, "1234")
    touch(screen.ids.submit_button)


def test_timecard_by_choosing_the_employee_opens_the_browser(sync_server, window, tmp_path):
    provision(sync_server, tmp_path)
    seen = tmp_path / "url.txt"
    browser = fake_program(tmp_path / "bin", "kiosk-browser", f'echo "$1" > {seen}')
    with running_app(window, tmp_path, browser=f"{browser} %s", confirmation_seconds=30) as app:
        wait_until(app.kiosk.sync.sync.is_online, timeout=30)
        touch(app.standby.ids.timecard_button)
        screenshot(window, "timecard_wait_or_choose")
        touch(app.punch_screen.ids.password_button)
        touch(app.password_screen.ids.submit_button)             # nobody chosen yet
        assert error_shown(app) == ("employee_not_selected", "従業員が選択されていません")
        assert app.presenter.current.situation.value == "browser"
        dismiss(app)
        touch(app.password_screen.ids.back_button)
        wait_until(lambda: app.manager.current == "standby")
        timecard_for_sato(app)
        wait_until(lambda: app.punch_screen.phase == "done", timeout=30)
        assert app.punch_screen.greeting == "ブラウザでタイムカードを開きました"
        assert app.punch_screen.headline.startswith("佐藤 花子")
        screenshot(window, "timecard_opened")
        url = seen.read_text().strip()
        page = requests.get(url, verify=str(sync_server.process.tls_dir / "ca.pem"), timeout=10)
        assert page.status_code == 200 and "佐藤" in page.text
        assert app.kiosk.punches.count() == 0                    # looking at the timecard is not a punch


def test_timecard_without_a_browser_and_with_a_broken_one(sync_server, window, tmp_path, monkeypatch):
    provision(sync_server, tmp_path)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    monkeypatch.delenv("BROWSER", raising=False)
    monkeypatch.setenv("PATH", f"{bin_dir}:/usr/bin:/bin")                 # gio is there, with no https handler
    for name in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_DATA_DIRS"):
        monkeypatch.setenv(name, str(tmp_path / name.lower()))
    with running_app(window, tmp_path) as app:
        wait_until(app.kiosk.sync.sync.is_online, timeout=30)
        timecard_for_sato(app)
        assert error_shown(app) == ("browser_missing", "エラーを特定できません")
        screenshot(window, "timecard_browser_missing")
        dismiss(app)
        touch(app.password_screen.ids.back_button)
        wait_until(lambda: app.manager.current == "standby")
        fake_program(bin_dir, "firefox", "echo 'Error: no DISPLAY environment variable specified' >&2; exit 1")
        timecard_for_sato(app)
        assert error_shown(app) == ("browser_unexpected", "予期せぬ例外が発生しました")


def keys_in_view(entry) -> None:
    """Every key wholly inside 設定's scroll view: a touch at its centre lands on it (issue 12: the bottom row was
    below the fold after turning back to landscape)."""
    from layout_geometry import out_of_view

    hidden = out_of_view(entry.ids.keypad.children)
    assert not hidden, "\n".join(hidden)


def code_entry(app):
    from kiosk.ui.keypad import CodeEntry   # here: kivy must not be imported before the window is configured

    rows = app.settings_screen.ids.rows
    wait_until(lambda: any(isinstance(w, CodeEntry) for w in rows.children), timeout=30)
    advance(3)
    return next(w for w in rows.children if isinstance(w, CodeEntry))


def test_registration_finds_the_employee_by_typed_code(sync_server, window, tmp_path):
    provision(sync_server, tmp_path)
    with running_app(window, tmp_path) as app:
        wait_until(app.kiosk.sync.sync.is_online, timeout=30)
        open_registration(app)
        entry = code_entry(app)
        touch(entry.ids.search_button)                           # nothing typed
        assert error_shown(app) == ("employee_code_empty", "従業員コードが入力されていません")
        dismiss(app)
        keys_in_view(entry)
        press(entry.ids.keypad, "9999")
        touch(entry.ids.search_button)
        assert error_shown(app) == ("employee_not_found", "該当する従業員が見つかりません")
        assert app.presenter.current.situation.value == "registration"
        dismiss(app)
        screenshot(window, "registration_code_entry")
        window.size = (800, 1280)
        try:
            advance(10)
            assert entry.orientation == "vertical"          # the keypad goes below the entry line
            kana = app.settings_screen.ids.actions.children  # the kana initials wrap onto more rows
            assert len(kana) == 10 and all(b.width >= 76 and b.height >= 76 for b in kana)
            assert all(b.width >= 76 and b.height >= 76 for b in entry.ids.keypad.children), [tuple(b.size) for b in entry.ids.keypad.children] + [tuple(entry.size)]
            keys_in_view(entry)
            app.root.export_to_png(str(SHOTS / "registration_code_entry_portrait.png"))
        finally:
            window.size = (1280, 800)
            advance(10)
        assert entry.orientation == "horizontal"                 # the keypad back beside the entry line
        keys_in_view(entry)
        press(entry.ids.keypad, ["clear"])
        press(entry.ids.keypad, "1003")
        touch(entry.ids.search_button)
        screen = app.settings_screen
        wait_until(lambda: any(b.text == "ICカードを登録" for b in screen.ids.actions.children), timeout=30)
        assert app.manager_flow.registration.employee.code == "1003"
        assert any("鈴木 一郎" in row.value for row in screen.ids.rows.children)
