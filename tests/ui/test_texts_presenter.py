"""Issue 12 item 5 on the real screens: the error dialog never closes under a finger, lockouts count down, the
remedy's page is a QR code a phone can read, and wrapped labels break between phrases, never inside a name.
The presenter's clock is moved by the test (never slept); frames are advanced."""
from __future__ import annotations

import numpy as np
import pytest
import zxingcpp
from PIL import Image

from dakoku_core.errors import KioskError, Situation
from kiosk.ui import format as fmt
from kiosk.ui.error_presenter import SHIELD_SECONDS, TOUCH_SECONDS, ErrorPresenter
from kivy_harness import SHOTS, advance, running_app, touch, wait_until

pytestmark = [pytest.mark.ui, pytest.mark.timeout(300)]
HELP = "https://127.0.0.1:8443/help/"


class Now:
    """Monotonic seconds the test moves by hand."""

    def __init__(self):
        self.at = 5000.0

    def __call__(self) -> float:
        return self.at


@pytest.fixture
def app(window, tmp_path):
    with running_app(window, tmp_path) as running:
        yield running


@pytest.fixture
def now(app):
    clock = Now()
    app.presenter = ErrorPresenter(help_base=lambda: HELP, now=clock)
    return clock


def _tap_at(x: float, y: float) -> None:
    from kivy.tests.common import UnitTestTouch

    t = UnitTestTouch(x, y)
    t.touch_down()
    advance(2)
    t.touch_up()
    advance(2)


def _key_under_the_dialog(app):
    """A keypad key of the manager PIN screen that lies under the error dialog's box."""
    box = app.presenter.dialog.ids.box
    x0, y0 = box.to_window(box.x, box.y)
    for key in app.password_screen.ids.keypad.children:
        cx, cy = key.to_window(*key.center)
        if x0 < cx < x0 + box.width and y0 < cy < y0 + box.height and getattr(key, "key", "").isdigit():
            return key, (cx, cy)
    raise AssertionError("no key under the dialog")


def test_a_tap_aimed_at_the_closing_dialog_does_not_reach_the_keypad(app, now):
    touch(app.standby.ids.settings_button)     # 設定 → the manager PIN keypad
    assert app.manager.current == "password"
    app.presenter.show(KioskError("password_wrong", situation=Situation.PUNCH), auto_dismiss_after=8)
    advance(3)
    key, at = _key_under_the_dialog(app)
    now.at += 8.01
    app.presenter.tick()                       # closes by itself: the finger was on its way to 閉じる
    advance(2)
    assert not app.presenter.is_open
    _tap_at(*at)                               # lands where the dialog was
    assert app.password_screen.entry == ""     # swallowed, not a digit of the PIN
    now.at += SHIELD_SECONDS
    _tap_at(*at)                               # a moment later the keypad is the keypad again
    assert app.password_screen.entry == key.key


def test_a_touch_on_the_dialog_gives_time_to_reach_close(app, now):
    app.presenter.show(KioskError("already_punched", situation=Situation.PUNCH), auto_dismiss_after=8)
    advance(3)
    dialog = app.presenter.dialog
    now.at += 7.5
    app.presenter.tick()
    assert dialog.seconds_left == 1
    _tap_at(*dialog.ids.message_label.to_window(*dialog.ids.message_label.center))   # reading it
    now.at += TOUCH_SECONDS - 0.1
    app.presenter.tick()
    assert app.presenter.is_open and dialog.seconds_left >= 1
    now.at += 0.2
    app.presenter.tick()
    advance(2)
    assert not app.presenter.is_open


def test_the_manager_lockout_counts_down_and_closes_when_it_is_over(app, now):
    touch(app.standby.ids.settings_button)
    for attempt in range(6):                   # the real gate: five wrong PINs, then it locks
        app.manager_flow.submit_pin("9999")
        wait_until(lambda: app.presenter.is_open)
        if attempt < 5:
            app.presenter.dismiss()
            advance(2)
    assert app.presenter.current.key == "manager_locked_out"
    dialog = app.presenter.dialog
    start = int(dialog.message.split("(あと")[1].rstrip("秒)"))
    assert 50 <= start <= 60                   # the gate's 60 s, less what passed since the fifth try
    now.at += 1.1
    app.presenter.tick()
    advance(2)
    assert dialog.message.endswith(f"(あと{start - 1}秒)")
    assert one_countdown(dialog)
    _tap_at(*dialog.ids.message_label.to_window(*dialog.ids.message_label.center))   # a finger on it
    now.at += 30                              # past the usual 8/30 s: a lockout counts to its end
    app.presenter.tick()
    advance(2)
    assert app.presenter.is_open and dialog.message.endswith(f"(あと{start - 31}秒)")
    assert one_countdown(dialog)
    now.at += start - 31
    app.presenter.tick()
    advance(2)
    assert not app.presenter.is_open


def one_countdown(dialog) -> bool:
    """The lockout's message counts down; no 「N 秒後に閉じます」 line under it as well (issue 12)."""
    return dialog.seconds_left == 0 and dialog.ids.countdown_label.text == "" and "秒" in dialog.message


def test_the_pairing_lockout_counts_its_minutes_down(app, now):
    """The server's 429 names whole minutes (dakoku_server/pairing.py); the message counts them down and the dialog
    closes when they are over."""
    error = KioskError("pairing_locked_out", situation=Situation.CONNECTION_CHANGE, context={"minutes": 15})
    app.presenter.show(error, auto_dismiss_after=30)
    advance(3)
    dialog = app.presenter.dialog
    assert dialog.message == "ペアリングコードの誤りが続いたため、15分間入力できません"
    assert dialog.seconds_left == 0 and dialog.ids.countdown_label.text == ""
    now.at += 60.5
    app.presenter.tick()
    assert dialog.message == "ペアリングコードの誤りが続いたため、14分間入力できません"
    now.at += 13 * 60
    app.presenter.tick()
    assert app.presenter.is_open and "、1分間入力できません" in dialog.message
    assert dialog.seconds_left == 0
    now.at += 60
    app.presenter.tick()
    advance(2)
    assert not app.presenter.is_open


def _rendered(dialog, name: str) -> np.ndarray:
    """The dialog as GL draws it (into its own framebuffer: an offscreen window shows only the part within the
    size it was created with), grey levels, top row first; kept as a PNG to look at."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    image = dialog.ids.box.export_as_image()
    image.save(str(SHOTS / f"{name}.png"), flipped=False)
    texture = image.texture
    pixels = np.frombuffer(texture.pixels, dtype=np.uint8).reshape(texture.height, texture.width, 4)
    return np.flipud(pixels[:, :, :3].mean(axis=2).astype(np.uint8))


@pytest.mark.parametrize("size", [(1280, 800), (800, 1280)])
def test_the_remedy_page_is_a_qr_code_a_phone_reads(app, now, window, size):
    if tuple(window.size) != size:
        window.size = size
    try:
        advance(5)
        for key, situation, letter, credential in [
                ("timeout", Situation.DATA_UPDATE, None, None), ("certificate_invalid", None, None, None),
                ("auth_failed", Situation.PUNCH, "A", "card"), ("manager_locked_out", None, None, None)]:
            error = KioskError(key, situation=situation, cause_letter=letter, credential=credential,
                               context={"seconds": 60} if key == "manager_locked_out" else {})
            app.presenter.show(error, details=True)
            advance(8)
            page = error.help_page()
            shot = _rendered(app.presenter.dialog, f"error_{key}_{size[0]}x{size[1]}")
            found = [r.text for r in zxingcpp.read_barcodes(shot)]
            assert found == ([HELP + page] if page else []), key
            dialog = app.presenter.dialog
            if page:
                assert dialog.help_text.endswith(HELP + page)
            assert dialog.ids.close_button.y >= 0 and dialog.ids.box.top <= window.height   # all on screen
            app.presenter.dismiss()
            advance(3)
    finally:
        if tuple(window.size) != (1280, 800):
            window.size = (1280, 800)
        advance(5)


def test_without_a_server_the_page_is_named_in_the_documentation(app, window):
    app.presenter = ErrorPresenter()               # no connection yet: 000 on 接続先変更
    app.presenter.show(KioskError("connection_string_invalid", situation=Situation.CONNECTION_CHANGE),
                       details=True)
    advance(5)
    dialog = app.presenter.dialog
    assert dialog.qr_texture is None and "docs/remedies/connection-string.md" in dialog.help_text


def _lines(label) -> list[str]:
    label.texture_update()
    return ["".join(word.text for word in line.words) for line in label._label._cached_lines]


def test_wrapped_labels_never_split_a_name_or_a_phrase(app, window):
    from kivy.factory import Factory
    from kivy.uix.label import Label

    text = "高橋 美咲さん、管理者パスワードの誤りが続いたため、ロックしています"
    phrases = fmt.phrases(text)
    split_plain = False
    for width in range(320, 900, 40):          # the longest phrase (「管理者パスワードの」) fits
        label = Factory.WrapLabel(text=text, font_size=34, width=width)
        lines = _lines(label)
        assert "".join(lines) == fmt.glue_names(text), width
        assert all("高橋" not in line or "美咲" in line for line in lines), (width, lines)
        done = ""
        for line in lines[:-1]:               # every break falls between two of the marked phrases
            done += line
            assert any(done == "".join(phrases[:n]) for n in range(1, len(phrases))), (width, lines)
        plain = Label(text=text, font_size=34, text_size=(width, None))
        split_plain |= any(line.endswith(("高橋", "ロックし")) for line in _lines(plain))
    assert split_plain, "Kivy alone breaks inside names and words: the check above could fail"
    headline = app.punch_screen.ids.headline          # the confirmation's name: 「高橋 美咲 さん」
    assert isinstance(headline, Factory.WrapLabel)
    headline.text = "高橋 美咲 さん、お疲れさまでした"
    headline.width = 520
    headline.text_size = (520, None)
    assert any(line.startswith("高橋\u00a0美咲\u00a0さん") for line in _lines(headline)), _lines(headline)
