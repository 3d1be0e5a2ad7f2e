"""設定 › 接続先変更 by touch on the real screens (offscreen GL): the pairing form's on-screen keys, 貼り付け from the
real (SDL) clipboard, physical keys and Ctrl+V through Kivy's window keyboard, a barcode reader's line, the manual
texts, and the layout at 1280×800, 1920×1080 and 800×1280."""
from __future__ import annotations

import pytest

from kivy_harness import advance, running_app, screenshot, touch, wait_until
from layout_geometry import problems

pytestmark = [pytest.mark.ui, pytest.mark.timeout(600)]   # each touch renders frames (llvmpipe, shared cores)
SIZES = [(1280, 800), (1920, 1080), (800, 1280)]


def open_connection(app):
    touch(app.standby.ids.settings_button)
    keys = {b.key: b for b in app.password_screen.ids.keypad.children}
    for digit in "0000":
        touch(keys[digit])
    touch(app.password_screen.ids.submit_button)
    wait_until(lambda: app.manager.current == "settings")
    assert app.settings_screen.section == "connection"          # a kiosk never connected opens here
    form = app.manager_flow._form
    wait_until(lambda: form.parent is not None)
    advance(5)
    return form


def tap(widget) -> None:
    """Scroll the settings rows so that ``widget`` is in view (as a finger would), then touch it."""
    from kivy.uix.scrollview import ScrollView
    parent = widget.parent
    while parent is not None and not isinstance(parent, ScrollView):
        parent = parent.parent
    if parent is not None and parent.children[0].height > parent.height:   # only when the rows overflow
        parent.scroll_to(widget, padding=10, animate=False)
        advance(3)
    touch(widget)


def type_keys(form, text: str) -> None:
    """Touch the keys of the sheet that is open (switching between the letters and digits pages)."""
    sheet = form.sheet
    assert sheet.parent is not None, "the keys are not shown"
    for char in text:
        if char not in ".:-/" and sheet.digits != char.isdigit():
            touch(sheet.ids.page_button)
        touch(sheet.key(char))


def close_keys(form) -> None:
    """完了, then wait until the keys have left the window: while they fade out (0.1 s, a few frames now that frames
    are cheap) they take every touch, as they would a finger's."""
    touch(form.sheet.ids.done_button)
    wait_until(lambda: form.sheet.parent is None)


def physical(text: str) -> None:
    """Characters as SDL delivers a keyboard's (or a barcode reader's) typing to the window."""
    from kivy.core.window import Window
    for char in text:
        Window.dispatch("on_textinput", char)
    advance(2)


def ctrl_v() -> None:
    from kivy.core.window import Window
    Window.dispatch("on_key_down", 118, 25, "v", ["ctrl"])
    Window.dispatch("on_key_up", 118, 25)
    advance(2)


@pytest.fixture
def app(window, tmp_path):
    with running_app(window, tmp_path) as running:
        yield running


def test_pairing_fields_take_keys_paste_keyboard_and_a_scanned_line(app, window):
    from kivy.core.clipboard import Clipboard

    form = open_connection(app)
    assert form.mode == "pairing" and form.sheet.parent is None
    assert [f.title for f in reversed(form.ids.mode_fields.children)][1].startswith("ペアリングコード")
    tap(form.field("host").ids.input)                            # a tap opens the keys for that field
    assert form.target == "host" and form.sheet.field is form.field("host")
    type_keys(form, "KIOSK.JP:84")
    assert form.field("host").text == "KIOSK.JP:84" and form.sheet.ids.echo.text == "KIOSK.JP:84"
    touch(form.sheet.key("back"))
    assert form.field("host").text == "KIOSK.JP:8"
    screenshot(window, "connection_keys")
    close_keys(form)
    tap(form.field("code").ids.input)
    assert form.target == "code" and form.sheet.field is form.field("code")
    type_keys(form, "AB2")
    assert form.field("code").text == "AB2" and form.field("host").text == "KIOSK.JP:8"
    close_keys(form)
    Clipboard.copy("wxyz-2345\n")
    tap(form.field("code").ids.paste_button)                      # 貼り付け from the real clipboard
    assert form.field("code").text == "wxyz-2345"
    tap(form.field("check").ids.input)
    form.sheet.dismiss()
    advance(2)
    Clipboard.copy("ABCD-EFGH-JKLM-NPQR")
    ctrl_v()                                                        # Ctrl+V on a physical keyboard
    assert form.field("check").text == "ABCD-EFGH-JKLM-NPQR"
    tap(form.field("host").ids.input)
    form.sheet.dismiss()
    form.field("host").text = ""
    physical("dakoku-pair:attendance.example.jp:8443:QRST2345:ABCDEFGHJKLMNPQR")   # a 2D barcode reader
    assert (form.field("host").text, form.field("code").text, form.field("check").text) == (
        "attendance.example.jp:8443", "QRST2345", "ABCDEFGHJKLMNPQR")
    screenshot(window, "connection_pairing_filled")


def test_manual_texts_are_pasted_and_the_certificate_is_never_keyed(app, window):
    from kivy.core.clipboard import Clipboard

    form = open_connection(app)
    tap(form.ids.manual_tab)
    assert form.mode == "manual" and form.target == "connection"
    assert {type(f).__name__ for f in form.ids.mode_fields.children} == {"PasteField"}
    assert len(form.ids.mode_fields.children) == 2
    Clipboard.copy("v=1;url=https://a.example.jp/;\ncompany=C1;recorder=R1;department=D1;device=card")
    tap(form.field("connection").ids.paste_button)
    assert form.field("connection").text == "v=1;url=https://a.example.jp/;company=C1;recorder=R1;department=D1;device=card"
    certificate = "-----BEGIN DAKOKU RECORDER CERTIFICATE-----\nAAAA\n-----END DAKOKU RECORDER CERTIFICATE-----\n"
    Clipboard.copy(certificate)
    tap(form.field("certificate").ids.paste_button)
    assert form.field("certificate").text == certificate.strip() and form.target == "certificate"
    tap(form.field("certificate").ids.input)
    assert form.sheet.parent is None                                # no keys for the certificate
    tap(form.field("proxy").ids.input)
    assert form.sheet.field is form.field("proxy")
    physical("http://proxy:8080")                                   # physical keys reach the field
    assert form.field("proxy").text == "http://proxy:8080"
    assert form.values() == (form.field("connection").text, certificate.strip(), "http://proxy:8080")
    screenshot(window, "connection_manual_filled")


def test_malformed_pairing_input_is_refused_with_its_catalogue_error(app):
    form = open_connection(app)
    tap(form.field("host").ids.input)
    type_keys(form, "KIOSK")
    close_keys(form)
    tap(form.field("code").ids.input)
    type_keys(form, "ABC")                                          # too short
    touch(form.sheet.ids.done_button)
    # the keys fade out first: until they have left the window they take every touch (slow frames under load)
    wait_until(lambda: form.sheet.parent is None)
    touch(app.settings_screen.ids.actions.children[0])              # 保存する
    wait_until(lambda: app.presenter.is_open)
    assert app.presenter.current.key == "pairing_input_invalid"
    assert not app.kiosk.sync.configured


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_layout_at_each_size(window, tmp_path, size):
    from kiosk.ui.window import display_dpi

    window.size = size
    advance(3)
    try:
        with running_app(window, tmp_path) as app:
            form = open_connection(app)
            for mode in ("pairing", "manual"):
                tab = form.ids.pairing_tab if mode == "pairing" else form.ids.manual_tab
                tap(tab)
                advance(4)
                if mode == "pairing":
                    screenshot(window, f"settings_connection_{mode}_{size[0]}x{size[1]}")
                x, y = tab.to_window(*tab.center)
                assert 0 < x < window.width and 0 < y < window.height    # the form is in view, not scrolled away
                found = problems(app.root, display_dpi())
                assert not found, f"{mode} at {size}:\n" + "\n".join(found)
            tap(form.field("proxy").ids.input)                    # the keys, docked like a keyboard
            for digits in (False, True):
                form.sheet.digits = digits
                advance(4)
                if not digits:
                    screenshot(window, f"settings_connection_keys_{size[0]}x{size[1]}")
                found = problems(form.sheet, display_dpi())
                assert not found, f"keys at {size}:\n" + "\n".join(found)
                assert form.sheet.top <= window.height / 2 + 200 and form.sheet.y == 0
            form.sheet.dismiss()
    finally:
        window.size = (1280, 800)
        advance(3)
