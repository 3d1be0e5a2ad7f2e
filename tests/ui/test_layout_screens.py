"""Every screen at 1280×800, 1920×1080 and 800×1280 (portrait): touch targets inside the window and ≥ 12 mm,
no text clipped or squeezed (tests/layout_geometry.py). Real screens rendered offscreen; screenshots of each
are kept in artifacts/screens/<screen>_<W>x<H>0001.png for a person to look at."""
from __future__ import annotations

import pytest

from dakoku_core.demo import DEMO_CARDS
from dakoku_core.domain.model import PunchKind
from kiosk.ui.window import display_dpi
from kivy_harness import advance, running_app, screenshot, touch, wait_until
from layout_geometry import problems
from registration_screens import open_settings

pytestmark = [pytest.mark.ui, pytest.mark.timeout(240)]
SIZES = [(1280, 800), (1920, 1080), (800, 1280)]
CARD = {c.employee_code or "unknown": c.card_id for c in DEMO_CARDS}


@pytest.fixture(params=SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def sized(request, window):
    window.size = request.param
    advance(3)
    yield request.param
    window.size = (1280, 800)
    advance(3)


@pytest.fixture
def app(window, tmp_path, sized):
    with running_app(window, tmp_path) as running:
        advance(5)
        yield running


def check(app, window, sized, name: str) -> None:
    advance(8)
    wait_until(lambda: not app.manager.transition.is_active)
    advance(4)
    screenshot(window, f"{name}_{sized[0]}x{sized[1]}")
    found = problems(app.root, display_dpi())
    assert not found, f"{name} at {sized}:\n" + "\n".join(found)


def test_standby(app, window, sized):
    assert window.size == sized
    assert app.standby.portrait is (sized[1] > sized[0])
    check(app, window, sized, "standby")


def test_punch_wait_and_confirmation(app, window, sized):
    touch(app.standby.punch_button(PunchKind.CLOCK_IN))
    check(app, window, sized, "punch_wait")
    app.kiosk.reader.tap(CARD["1001"])
    wait_until(lambda: app.punch_screen.phase == "done")
    check(app, window, sized, "punch_done")
    wait_until(lambda: app.manager.current == "standby")
    wait_until(lambda: "山田" in app.standby.history_text)
    check(app, window, sized, "standby_history")


def test_password_keypad_letters_and_list(app, window, sized):
    touch(app.standby.punch_button(PunchKind.CLOCK_OUT))
    touch(app.punch_screen.ids.password_button)
    check(app, window, sized, "password_digits")
    touch(app.password_screen.ids.letters_button)
    check(app, window, sized, "password_letters")
    touch(app.password_screen.ids.list_button)
    wait_until(lambda: len(app.password_screen.picker.ids.rows.children) > 0)
    check(app, window, sized, "password_list")


def test_manager_pin_and_settings_sections(app, window, sized):
    touch(app.standby.ids.settings_button)
    check(app, window, sized, "manager_pin")
    touch(app.password_screen.ids.back_button)
    wait_until(lambda: app.manager.current == "standby")
    open_settings(app)
    for section in ("info", "connection", "data_update", "diagnosis", "registration"):
        touch(app.settings_screen._section_buttons[section])
        advance(10)
        check(app, window, sized, f"settings_{section}")


def test_timecard_and_help_waits(app, window, sized):
    touch(app.standby.ids.timecard_button)
    check(app, window, sized, "timecard_wait")
    touch(app.punch_screen.ids.back_button)
    wait_until(lambda: app.manager.current == "standby")
    touch(app.standby.ids.help_button)
    check(app, window, sized, "help_wait")


def test_the_layout_follows_the_window_when_it_turns(window, tmp_path):
    """One app, turned to portrait and back (a tablet rotated; a window resized): each layout is whole again."""
    window.size = (1280, 800)
    try:
        with running_app(window, tmp_path) as app:
            open_settings(app)
            touch(app.settings_screen._section_buttons["info"])
            for size in [(800, 1280), (1280, 800), (800, 1280)]:
                window.size = size
                check(app, window, size, "settings_turned")
            touch(app.settings_screen.ids.close_button)
            wait_until(lambda: app.manager.current == "standby")
            for size in [(1280, 800), (800, 1280), (1280, 800)]:
                window.size = size
                check(app, window, size, "standby_turned")
                assert app.standby.ids.punch_buttons.cols == (2 if size[1] > size[0] else 4)
    finally:
        window.size = (1280, 800)
        advance(3)


def test_the_checks_can_fail(window):
    """A button half outside, a small one, clipped and squeezed text, text with no room: each is reported."""
    from kivy.uix.button import Button
    from kivy.uix.floatlayout import FloatLayout
    from kivy.uix.label import Label

    root = FloatLayout(size=window.size)
    root.add_widget(Button(text="外", size_hint=(None, None), size=(200, 200), pos=(window.width - 100, 10)))
    root.add_widget(Button(text="小", size_hint=(None, None), size=(30, 200), pos=(10, 300)))
    root.add_widget(Label(text="とても長い文字列がはみ出します", font_size=40, size_hint=(None, None),
                          size=(120, 60), pos=(300, 300)))
    root.add_widget(Label(text="設定の値が一文字ずつ折り返されます", font_size=20, size_hint=(None, None),
                          size=(40, 600), text_size=(40, None), pos=(600, 100)))
    root.add_widget(Label(text="00:52:59", font_size=100, size_hint=(None, None), size=(300, 0), pos=(10, 10)))
    window.add_widget(root)
    try:
        advance(3)
        found = "\n".join(problems(root, 96))
    finally:
        window.remove_widget(root)
    assert "outside the window" in found and "< 12.0 mm" in found
    assert "(clipped)" in found and "squeezed" in found and "no room for its text" in found
