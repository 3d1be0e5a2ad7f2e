"""The label that wraps to its width (``WrapLabel`` in the kv files): it breaks lines between phrases, never
inside a word or a name (the rule is :func:`kiosk.ui.format.break_lines`; Kivy alone breaks CJK text anywhere).

``text`` stays what the screen set; only the rendered text gets its newlines. ``breaks_at``: break only at this
separator (the standby status line: 「指紋センサー: 接続中」 is one item, never 「指紋センサー: / 接続中」), and leave
it off the end of a line."""
from __future__ import annotations

from kivy.properties import StringProperty
from kivy.uix.label import Label

from kiosk.ui import format as fmt


class WrapLabel(Label):
    breaks_at = StringProperty("")

    def texture_update(self, *largs):
        width = self.text_size[0]
        if width and self.text and not self.markup:
            core = self._label
            core.resolve_font_name()
            room = width - self.padding[0] - self.padding[2] - 1   # a pixel to spare: Kivy must not wrap again
            core.text = fmt.break_lines(self.text, room, lambda s: core.get_extents(s)[0], self.breaks_at)
        super().texture_update(*largs)
