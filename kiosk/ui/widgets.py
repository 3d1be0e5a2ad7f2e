"""Small shared widgets (their look is in kv/common.kv)."""
from __future__ import annotations

from kivy.properties import ColorProperty, NumericProperty, StringProperty
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.screenmanager import NoTransition
from kivymd.uix.screenmanager import MDScreenManager

from dakoku_core.domain.model import PunchKind

KIND_COLOURS = {
    PunchKind.CLOCK_IN: (0.10, 0.52, 0.32, 1),
    PunchKind.CLOCK_OUT: (0.80, 0.30, 0.16, 1),
    PunchKind.BREAK_START: (0.14, 0.40, 0.74, 1),
    PunchKind.BREAK_END: (0.44, 0.32, 0.68, 1),
}


class BigButton(ButtonBehavior, BoxLayout):
    """A flat rounded face with a label: the look of KivyMD's filled MDCard without its machinery. Each MDCard drew
    a BoxShadow (a per-pixel blur shader, run even for a filled card's transparent shadow), carried theming, hover
    and state-layer bindings, and cost about 10 ms to build; in software GL (llvmpipe) the kiosk's frames and its
    start paid for them (docs/performance.md). Pressed, the face darkens a little."""

    text = StringProperty("")
    font_size = NumericProperty(40)
    face_color = ColorProperty((0.25, 0.28, 0.33, 1))
    text_color = ColorProperty((1, 1, 1, 1))
    radius = NumericProperty(20)   # dp


class KioskScreenManager(MDScreenManager):
    """The kiosk's screens, changed at once. Kivy's ScreenManager clips its screens with a stencil (for sliding
    transitions) and KivyMD's draws a background under them; the kiosk's screens fill it and do not slide, and in
    software GL both cost every frame, as did the fade (two screens into FBOs per frame): kv/common.kv drops the
    inherited canvas rules (docs/performance.md).

    At once means in the same frame: KivyMD replaces any transition not its own by its 0.2 s shared-axis animation
    one frame after the manager is made (:meth:`check_transition`, kept out here), and even Kivy's NoTransition
    keeps the old screen until the next tick, so the first frame drew both screens and the next one again."""

    def __init__(self, **kwargs):
        kwargs.setdefault("transition", NoTransition())
        super().__init__(**kwargs)

    def check_transition(self, *_args) -> None:
        """KivyMD's default transition is not wanted: the kiosk's stays."""

    def on_current(self, instance, value) -> None:
        super().on_current(instance, value)
        transition = self.transition
        if transition.is_active and transition.duration == 0:
            entering, leaving = transition.screen_in, transition.screen_out
            transition.stop()   # the old screen leaves now (stop() dispatches neither of these)
            entering.dispatch("on_enter")
            leaving.dispatch("on_leave")
