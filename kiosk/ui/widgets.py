"""Small shared widgets (their look is in kv/common.kv)."""
from __future__ import annotations

from kivy.properties import ColorProperty, NumericProperty, StringProperty
from kivymd.uix.card import MDCard

from dakoku_core.domain.model import PunchKind

KIND_COLOURS = {
    PunchKind.CLOCK_IN: (0.10, 0.52, 0.32, 1),
    PunchKind.CLOCK_OUT: (0.80, 0.30, 0.16, 1),
    PunchKind.BREAK_START: (0.14, 0.40, 0.74, 1),
    PunchKind.BREAK_END: (0.44, 0.32, 0.68, 1),
}


class BigButton(MDCard):
    text = StringProperty("")
    font_size = NumericProperty(40)
    face_color = ColorProperty((0.25, 0.28, 0.33, 1))
    text_color = ColorProperty((1, 1, 1, 1))
