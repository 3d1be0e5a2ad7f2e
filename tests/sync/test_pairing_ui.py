"""ペアリングコードで設定 on the real screens against the real reference server over TLS: the admin CLI issues a
code, the manager types the server and the code on the on-screen keys and pastes the check code, 保存する connects the kiosk,
and a wrong check code gives its catalogue error without spending the code."""
from __future__ import annotations

import pytest

from kivy_harness import advance, running_app, screenshot, touch, wait_until

from .test_pairing_e2e import new_recorder, pair_code

pytestmark = [pytest.mark.ui, pytest.mark.timeout(900)]   # every touch renders frames (llvmpipe, shared cores)


def open_connection(app):
    touch(app.standby.ids.settings_button)
    keys = {b.key: b for b in app.password_screen.ids.keypad.children}
    for digit in "0000":
        touch(keys[digit])
    touch(app.password_screen.ids.submit_button)
    wait_until(lambda: app.manager.current == "settings")
    form = app.manager_flow._form
    wait_until(lambda: form.parent is not None)
    return form


def type_into(form, name: str, text: str) -> None:
    """Tap the field (scrolled into view), then touch the keys of the sheet that opens."""
    field = form.field(name)
    rows = form.parent.parent
    if form.parent.height > rows.height:                            # only when the rows overflow
        rows.scroll_to(field, padding=10, animate=False)
        advance(3)
    touch(field.ids.input)
    sheet = form.sheet
    touch(sheet.key("clear"))
    for char in text:
        if char not in ".:-/" and sheet.digits != char.isdigit():
            touch(sheet.ids.page_button)
        touch(sheet.key(char))
    touch(sheet.ids.done_button)


def paste_into(form, name: str, text: str) -> None:
    from kivy.core.clipboard import Clipboard
    Clipboard.copy(text)
    button = form.field(name).ids.paste_button
    rows = form.parent.parent
    if form.parent.height > rows.height:
        rows.scroll_to(button, padding=10, animate=False)
        advance(3)
    touch(button)


def test_manager_pairs_the_kiosk_on_the_keys(sync_server, window, tmp_path):
    new_recorder(sync_server, "PAIRUI")
    host, code, check = pair_code(sync_server, "PAIRUI")
    with running_app(window, tmp_path) as app:
        form = open_connection(app)
        save = app.settings_screen.ids.actions.children[0]          # 保存する
        type_into(form, "host", host)
        type_into(form, "code", code)
        wrong = ("3" if check[0] != "3" else "4") + check[1:]
        paste_into(form, "check", wrong)                            # the check code from the admin's mail
        touch(save)
        wait_until(lambda: app.presenter.is_open, timeout=30)
        assert app.presenter.current.key == "pairing_pin_mismatch"
        screenshot(window, "pairing_pin_mismatch")
        app.presenter.dismiss()
        wait_until(lambda: not app.presenter.is_open)
        paste_into(form, "check", check)
        touch(save)
        wait_until(lambda: "保存しました" in app.settings_screen.notice, timeout=60)
        assert app.kiosk.sync.configured and app.kiosk.master.recorder().code == "PAIRUI"
        actions = [(a, o) for _, a, o, _ in app.kiosk.manager.recent(10)]
        assert ("settings.connection_change", "saved") in actions
