"""The standby status line in portrait (issue 12): it wraps between its items, never inside one
(「指紋センサー: / 接続中」 was drawn in the touch walk at 800×1280)."""
from __future__ import annotations

import pytest

from kiosk.settings import FingerprintSettings
from kivy_harness import advance, running_app, wait_until

pytestmark = [pytest.mark.ui, pytest.mark.timeout(120)]
SEPARATOR = "  ·  "


def test_the_portrait_status_line_breaks_between_whole_items(window, tmp_path):
    settings = FingerprintSettings(backend="simulated", demo_fingers=1)
    try:
        with running_app(window, tmp_path, fingerprint=settings) as app:
            window.size = (800, 1280)
            wait_until(lambda: "指紋センサー: 接続中" in app.standby.status_text, timeout=30)
            label = app.standby.ids.status_label
            advance(3)
            items = app.standby.status_text.split(SEPARATOR)
            drawn = label._label.text.split("\n")
            assert len(drawn) > 1, drawn                          # it does wrap at this width
            for line in drawn:
                assert set(line.split(SEPARATOR)) <= set(items), drawn
            assert SEPARATOR.join(drawn) == app.standby.status_text
    finally:
        window.size = (1280, 800)
