"""The password keypad with the demo panel (cards and fingers) below it, at 1280×800, 1920×1080 and 800×1280: in
digit and in letter mode every key, 戻る and the submit button are wholly in the window (issue 12: at 1280×800 the
letter keys and the finger row pushed the keypad's last rows below the fold, where a touch missed them).
Screenshots: artifacts/screens/password_keys_*.png."""
from __future__ import annotations

import pytest

from dakoku_core.domain.model import PunchKind
from kiosk.settings import FingerprintSettings
from kivy_harness import advance, running_app, screenshot, touch, wait_until
from layout_geometry import out_of_view

pytestmark = [pytest.mark.ui, pytest.mark.timeout(240)]
SIZES = [(1280, 800), (1920, 1080), (800, 1280)]


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_every_key_is_in_view_in_both_modes_above_the_demo_fingers(window, tmp_path, size):
    window.size = size
    try:
        with running_app(window, tmp_path, fingerprint=FingerprintSettings(backend="simulated", demo_fingers=3)) as app:
            touch(app.standby.punch_button(PunchKind.CLOCK_IN))
            touch(app.punch_screen.ids.password_button)
            wait_until(lambda: app.manager.current == "password")
            screen = app.password_screen
            for letters in (False, True):
                screen.ids.keypad.letters = letters
                advance(10)
                keys = list(screen.ids.keypad.children)
                shown = keys + [screen.ids.back_button, screen.ids.submit_button, screen.ids.letters_button]
                found = out_of_view(shown)
                mode = "letters" if letters else "digits"
                screenshot(window, f"password_keys_{mode}_{size[0]}x{size[1]}")
                assert keys and not found, f"{mode} at {size}:\n" + "\n".join(found)
                assert all(k.height >= 40 for k in keys), f"{mode} at {size}: keys squeezed"
    finally:
        window.size = (1280, 800)
        advance(3)
