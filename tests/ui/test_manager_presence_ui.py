"""設定 › 出勤状況 on the real screens (offline demo: this recorder's ledger alone), driven by touch, rendered at
1280×800, 1920×1080 and 800×1280: who is in, on break and gone, with times, in type readable at arm's length."""
from __future__ import annotations

import pytest

from dakoku_core.demo import demo_card
from dakoku_core.domain.model import PunchKind
from kiosk.services.presence import Presence
from kiosk.ui.manager_presence import PresenceItem
from kiosk.ui.widgets import BigButton
from kivy_harness import advance, running_app, screenshot, touch, wait_until
from registration_screens import open_settings

pytestmark = [pytest.mark.ui, pytest.mark.timeout(240)]
SIZES = [(1280, 800), (1920, 1080), (800, 1280)]


def targets_fit(app, window) -> list[str]:
    """Every visible button of the page (its actions and rows) inside the window and at least 76 dp (12 mm)."""
    from kivy.metrics import dp

    found = []
    ids = app.settings_screen.ids
    for widget in [*ids.actions.walk(restrict=True), *ids.rows.walk(restrict=True)]:
        if isinstance(widget, BigButton) and widget.opacity > 0 and widget.get_root_window() is not None:
            x, y = widget.to_window(widget.x, widget.y)
            if min(widget.width, widget.height) < dp(76) - 1:
                found.append(f"{widget.text!r} is {widget.width:.0f}x{widget.height:.0f}")
            if x < -1 or y < -1 or x + widget.width > window.width + 1 or y + widget.height > window.height + 1:
                found.append(f"{widget.text!r} at {x:.0f},{y:.0f} is outside {window.size}")
    return found


def test_presence_shows_who_is_in_from_the_ledger_at_every_size(window, tmp_path):
    with running_app(window, tmp_path) as app:
        punches = app.kiosk.punch_service
        punches.punch_with_card(PunchKind.CLOCK_IN, demo_card("normal").card_id)            # 山田: in
        punches.punch_with_card(PunchKind.CLOCK_IN, demo_card("password").card_id)          # 佐藤: in ...
        open_settings(app)
        touch(app.settings_screen._section_buttons["presence"])
        wait_until(lambda: any(isinstance(w, PresenceItem) for w in app.settings_screen.ids.rows.children))
        page = app.manager_flow.pages["presence"]
        assert not page.board.server_checked                      # offline demo: the ledger alone, said so
        assert "オフライン" in app.settings_screen.notice
        items = {i.name: i for i in app.settings_screen.ids.rows.children if isinstance(i, PresenceItem)}
        assert items["山田 太郎"].state_text == "出勤中" and "出勤\u00a0" in items["山田 太郎"].times
        assert {r.state for r in page.board.rows} == {Presence.WORKING}
        for size in SIZES:
            window.size = size
            advance(8)
            screenshot(window, f"settings_presence_{size[0]}x{size[1]}")
            assert targets_fit(app, window) == []
            names = [w for w in items["山田 太郎"].walk() if getattr(w, "text", "") == "山田 太郎"]
            assert names and names[0].font_size >= 28 and names[0].texture_size[1] <= names[0].height + 1
        window.size = (1280, 800)
        advance(5)
