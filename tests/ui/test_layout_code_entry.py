"""認証登録's 従業員コード entry under the kana initials in 設定, at 1280×800, 1920×1080 and 800×1280, and after the
window turns: every key of its keypad wholly in view (none below the fold of the section's scroll view) and
touch-sized, the entry line and its buttons too. Issue 12: the bottom row (クリア, 0) was below the fold, so a touch
missed it. The section is filled as the registration flow fills it (kiosk/ui/registration_flow.py: the kana
buttons, the notice, then the entry), without a server. Screenshots: artifacts/screens/code_entry_*.png."""
from __future__ import annotations

import pytest

from dakoku_core.i18n import tr
from kiosk.ui.window import display_dpi
from kivy_harness import advance, running_app, screenshot, touch, wait_until
from layout_geometry import out_of_view, problems
from registration_screens import open_settings

pytestmark = [pytest.mark.ui, pytest.mark.timeout(240)]
SIZES = [(1280, 800), (1920, 1080), (800, 1280)]


@pytest.fixture
def entry(window, tmp_path):
    from kiosk.ui.keypad import CodeEntry
    from dakoku_core.domain.kana import ROWS

    with running_app(window, tmp_path) as app:
        open_settings(app)
        screen = app.settings_screen
        wait_until(lambda: len(screen.ids.rows.children) > 0)   # 設定 opens on its first section (接続先 here)
        advance(5)
        screen.show_section("registration", [(row, lambda: None) for row in ROWS])
        screen.notice = tr("registration.choose_row")
        code_entry = CodeEntry()
        screen.show_form(code_entry)
        advance(5)
        yield app, code_entry
    window.size = (1280, 800)
    advance(3)


def targets(code_entry) -> list:
    return [*code_entry.ids.keypad.children, code_entry.ids.letters_button, code_entry.ids.search_button]


def shown(app, window, code_entry, name: str) -> None:
    """Every key and button in view, nothing on the screen clipped or too small; a screenshot."""
    advance(10)
    wait_until(lambda: not app.manager.transition.is_active)
    assert code_entry in app.settings_screen.ids.rows.children
    screenshot(window, f"code_entry_{name}_{window.size[0]}x{window.size[1]}")
    hidden = out_of_view(targets(code_entry))
    assert not hidden, f"{name} at {window.size}:\n" + "\n".join(hidden)
    found = problems(app.root, display_dpi())
    assert not found, f"{name} at {window.size}:\n" + "\n".join(found)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_the_whole_digit_keypad_is_in_view(entry, window, size):
    app, code_entry = entry
    window.size = size
    shown(app, window, code_entry, "digits")
    assert code_entry.orientation == ("vertical" if size[1] > size[0] else "horizontal")


def test_the_keypad_stays_in_view_after_turning_both_ways(entry, window):
    app, code_entry = entry
    for size in [(800, 1280), (1280, 800), (800, 1280), (1280, 800)]:
        window.size = size
        shown(app, window, code_entry, "turned")


@pytest.mark.parametrize("size", [(1920, 1080), (800, 1280)], ids=lambda s: f"{s[0]}x{s[1]}")
def test_the_letters_are_in_view_where_the_screen_has_room(entry, window, size):
    app, code_entry = entry
    window.size = size
    advance(5)
    touch(code_entry.ids.letters_button)
    shown(app, window, code_entry, "letters")
    assert code_entry.ids.keypad.cols == 8
