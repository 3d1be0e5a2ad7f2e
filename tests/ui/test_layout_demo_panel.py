"""The demo panel (the simulated reader's cards, the simulated sensor's fingers) at 1280×800, 1920×1080 and
800×1280: every button on screen, touch-sized, its label whole (issue 12: in portrait nine cards in one row cut
「パスワード打刻」 to 「パスワ」). Screenshots: artifacts/screens/demo_panel_*.png."""
from __future__ import annotations

import pytest

from kiosk.settings import FingerprintSettings
from kiosk.ui.window import display_dpi
from kivy_harness import advance, running_app, screenshot
from layout_geometry import problems

pytestmark = [pytest.mark.ui, pytest.mark.timeout(240)]
SIZES = [(1280, 800), (1920, 1080), (800, 1280)]


@pytest.mark.parametrize("fingers", [False, True], ids=["cards", "cards_and_fingers"])
@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_every_demo_button_is_whole_and_on_screen(window, tmp_path, size, fingers):
    sensor = FingerprintSettings(backend="simulated", demo_fingers=3) if fingers else None
    window.size = size
    try:
        with running_app(window, tmp_path, fingerprint=sensor) as app:
            panel = app.demo_panel
            advance(10)
            screenshot(window, f"demo_panel_{'fingers_' if fingers else ''}{size[0]}x{size[1]}")
            found = problems(panel, display_dpi())
            assert not found, f"at {size}:\n" + "\n".join(found)
            buttons = panel.ids.cards.children
            assert len(buttons) == 9 and all(b.y >= panel.y and b.top <= panel.top for b in buttons)
            assert panel.ids.cards.cols == (5 if size[0] < size[1] else 9)
            assert app.standby.ids and app.root.height == window.height   # the screen above keeps the rest
    finally:
        window.size = (1280, 800)
        advance(3)
