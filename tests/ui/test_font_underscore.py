"""Issue 12: an underscore rendered as a space (a recorder code ``shop_01`` read ``shop 01``). The vendored BIZ UD
Gothic's hinting collapsed its bar at many sizes; the kiosk registers a copy that keeps it a pixel high
(kiosk/ui/fonts.py). Rendered here by Kivy's own text provider (SDL2_ttf + FreeType), as on the kiosk."""
from __future__ import annotations

import pytest

from kiosk.ui.fonts import FONTS_DIR, MONO, PROPORTIONAL, thin_bars_kept

pytestmark = [pytest.mark.ui]
SIZES = range(10, 61)


@pytest.fixture
def fonts(window):
    from kiosk.ui.fonts import register_fonts

    register_fonts()


def ink(text: str, font: str, size: int, bold: bool = False) -> int:
    """The darkest alpha of ``text`` rendered alone: 0 when nothing is drawn."""
    from kivy.core.text import Label as CoreLabel

    core = CoreLabel(text=text, font_name=font, font_size=size, bold=bold)
    core.refresh()
    return max(core.texture.pixels[3::4])


@pytest.mark.parametrize("font", [MONO, PROPORTIONAL])
@pytest.mark.parametrize("bold", [False, True])
def test_the_underscore_is_drawn_at_every_size(fonts, font, bold):
    faint = [(size, alpha) for size in SIZES if (alpha := ink("_", font, size, bold)) < 200]
    assert faint == [], f"{font} bold={bold}: underscore (size px, darkest alpha) faint or missing"


def test_the_vendored_files_are_unchanged_and_only_thin_bars_are_patched():
    for path in sorted(FONTS_DIR.glob("*.ttf")):
        data = path.read_bytes()
        patched, count = thin_bars_kept(data)
        changed = sum(a != b for a, b in zip(data, patched))
        assert (count, changed, len(patched)) == (7, 7, len(data)), path.name   # _ ‾ ¯ – — ― and U+0304


def test_a_code_with_an_underscore_has_more_ink_than_one_with_a_space(fonts):
    from kivy.uix.label import Label

    from kiosk.ui.wrap_label import WrapLabel

    for kind in (Label, WrapLabel):
        for size in (18, 20, 28):
            total = {}
            for text in ("shop_01", "shop 01"):
                label = kind(text=text, font_size=size, font_name=PROPORTIONAL, size=(400, 60), text_size=(400, None))
                label.texture_update()
                total[text] = sum(label.texture.pixels[3::4])
            assert total["shop_01"] - total["shop 01"] > 200 * size / 4, (kind.__name__, size, total)
