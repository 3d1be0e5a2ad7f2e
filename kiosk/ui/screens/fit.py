"""Sizes that follow the text and the window: a font that fits its box, a button as wide as its label, and
whether the window stands in portrait. Used from kv (``#:import fit kiosk.ui.screens.fit``)."""
from __future__ import annotations

from functools import lru_cache

from kivy.core.text import Label as CoreLabel
from kivy.metrics import dp

from kiosk.ui.window import MIN_TARGET_MM, mm_to_px

BUTTON_PADDING = 28   # dp on each side of a button's label (BigButton pads by 12 dp; the radius needs more)


@lru_cache(maxsize=256)
def text_size(text: str, font_size: float, font_name: str = "Roboto", bold: bool = False) -> tuple[int, int]:
    """The unwrapped size of ``text`` as a Label draws it."""
    label = CoreLabel(text=text, font_size=font_size, font_name=font_name, bold=bold)
    label.refresh()
    return label.texture.size if label.texture is not None else (0, 0)


def fit_font(text: str, largest: float, width: float, height: float | None = None,
             font_name: str = "Roboto", bold: bool = False) -> float:
    """The largest font size up to ``largest`` at which ``text`` fits ``width`` (and ``height``) on one line."""
    if not text or width <= 0:
        return largest
    w, h = text_size(text, largest, font_name, bold)
    scale = min(1.0, width / w if w else 1.0, (height / h) if (height and h) else 1.0)
    return max(1.0, int(largest * scale * 0.98))


def button_width(text: str, font_size: float, bold: bool = True) -> float:
    """A button wide enough for its one-line label, and never narrower than a touch target."""
    w, _h = text_size(text, font_size, "Roboto", bold)
    return max(w + 2 * dp(BUTTON_PADDING), target())


def widest(buttons) -> float:
    """The width the widest of ``buttons`` needs for its label (0 for none)."""
    return max((button_width(b.text, b.font_size) for b in buttons), default=0)


def target() -> int:
    """The smallest touch target in pixels on this display (:data:`MIN_TARGET_MM`)."""
    return mm_to_px(MIN_TARGET_MM)


def mm_px(mm: float) -> int:
    return mm_to_px(mm)
