"""Geometry checks for real screens: every touch target fully inside the window and at least 12 mm, every text
inside its box (nothing clipped, no text squeezed to one character per line). Used by tests/ui/test_layout_*.py.

Millimetres are worked out from a DPI: the kiosk's own assumption (kiosk.ui.window.display_dpi(), 96 when the
display does not say) or a stricter one passed by the test (a 10.1-inch 1280×800 tablet has 149 dpi)."""
from __future__ import annotations

import math
import re

SLACK = 1.0   # px: rounding in Kivy's layouts


def mm(px: float, dpi: float) -> float:
    return px * 25.4 / dpi


def _box(widget) -> tuple[float, float, float, float]:
    x, y = widget.to_window(widget.x, widget.y)
    return x, y, x + widget.width, y + widget.height


def _visible_children(widget):
    for child in widget.children:
        if child.opacity <= 0:
            continue
        yield child   # also when it has no size: a text or a button there is a fault


SKIP = ("DemoPanel",)   # the demo's simulated reader and sensor, not a kiosk screen


def walk(root, clip=None):
    """(widget, clip box) for every visible widget; inside a ScrollView the clip is its viewport."""
    from kivy.uix.scrollview import ScrollView

    for child in _visible_children(root):
        if type(child).__name__ in SKIP:
            continue
        yield child, clip
        inner = _box(child) if isinstance(child, ScrollView) else clip
        yield from walk(child, inner)


def _outside(box, area) -> bool:
    x0, y0, x1, y1 = box
    ax0, ay0, ax1, ay1 = area
    return x0 < ax0 - SLACK or y0 < ay0 - SLACK or x1 > ax1 + SLACK or y1 > ay1 + SLACK


def _intersects(box, area) -> bool:
    return box[0] < area[2] and box[2] > area[0] and box[1] < area[3] and box[3] > area[1]


def _is_target(widget) -> bool:
    from kivy.uix.behaviors import ButtonBehavior
    from kivy.uix.textinput import TextInput

    return isinstance(widget, (ButtonBehavior, TextInput))


def _needed_height(label, width: float) -> float:
    """The height ``label``'s text needs when wrapped at ``width``."""
    from kivy.core.text import Label as CoreLabel
    from kivy.core.text.markup import MarkupLabel

    cls = MarkupLabel if label.markup else CoreLabel
    core = cls(text=label.text, font_size=label.font_size, font_name=label.font_name, bold=label.bold,
               line_height=label.line_height, padding=label.padding, text_size=(width, None),
               halign=label.halign, strip=label.strip)
    core.refresh()
    return core.texture.size[1]


def _natural_width(label, text: str | None = None) -> float:
    from kivy.core.text import Label as CoreLabel

    longest = text if text is not None else max(label.text.split("\n"), key=len)
    core = CoreLabel(text=longest, font_size=label.font_size, font_name=label.font_name, bold=label.bold)
    core.refresh()
    return core.texture.size[0]


def label_problems(label, name: str) -> list[str]:
    problems = []
    tw, th = label.texture_size
    w, h = label.size
    if w <= 0 or h <= 0:
        return [f"{name}: no room for its text ({w:.0f}×{h:.0f} px)"]
    wrap_w, wrap_h = label.text_size
    if wrap_w is None:
        if tw > w + SLACK or th > h + SLACK:
            problems.append(f"{name}: text {tw:.0f}×{th:.0f} px in a box of {w:.0f}×{h:.0f} (clipped)")
        return problems
    if w < min(_natural_width(label), 8 * label.font_size) - SLACK:
        problems.append(f"{name}: {w:.0f} px wide for text of {label.font_size:.0f} px: squeezed")
    for word in re.findall(r"[A-Za-z0-9@:._-]{2,}", label.text):   # a path may wrap at its slashes
        if _natural_width(label, word) > wrap_w + SLACK:
            problems.append(f"{name}: the word {word!r} is broken inside ({wrap_w:.0f} px wide)")
            break
    needed = _needed_height(label, wrap_w)
    room = wrap_h if wrap_h is not None else h
    if needed > room + SLACK:
        problems.append(f"{name}: text needs {needed:.0f} px of height, has {room:.0f} (cut)")
    return problems


def problems(root, dpi: float, min_target_mm: float = 12.0) -> list[str]:
    """Everything wrong with the visible widgets under ``root`` in the current window."""
    from kivy.core.window import Window
    from kivy.uix.label import Label

    window_box = (0, 0, Window.width, Window.height)
    found = []
    for widget, clip in walk(root):
        name = f"{type(widget).__name__}({getattr(widget, 'text', '')[:24]!r})"
        box = _box(widget)
        if clip is not None and not _intersects(box, clip):
            continue   # scrolled out of view
        area = window_box if clip is None else (clip[0], -math.inf, clip[2], math.inf)
        if _is_target(widget) and not widget.disabled:
            if _outside(box, area):
                found.append(f"{name}: at {tuple(round(v) for v in box)} outside the window {Window.size}")
            small = min(mm(widget.width, dpi), mm(widget.height, dpi))
            if small < min_target_mm:
                found.append(f"{name}: {widget.width:.0f}×{widget.height:.0f} px = {small:.1f} mm < "
                             f"{min_target_mm} mm at {dpi:.0f} dpi")
        if isinstance(widget, Label) and widget.text.strip():
            if clip is None and _outside(box, window_box):
                found.append(f"{name}: outside the window")
            found.extend(label_problems(widget, name))
    return found


def out_of_view(widgets) -> list[str]:
    """Those of ``widgets`` not wholly in view: outside the window, or outside the viewport of a ScrollView they
    are in (scrolled away or below its fold), so a touch at their centre may miss them."""
    from kivy.core.window import Window
    from kivy.uix.scrollview import ScrollView

    found = []
    for widget in widgets:
        box, area, parent = _box(widget), (0, 0, Window.width, Window.height), widget.parent
        while parent is not None and parent is not parent.parent:
            if isinstance(parent, ScrollView):
                area = _box(parent)
                break
            parent = parent.parent
        if _outside(box, area) or _outside(box, (0, 0, Window.width, Window.height)):
            name = f"{type(widget).__name__}({getattr(widget, 'text', '')[:12]!r})"
            found.append(f"{name} at {tuple(round(v) for v in box)} not inside {tuple(round(v) for v in area)}")
    return found
