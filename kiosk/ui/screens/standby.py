"""Standby (home): date, a large clock, the punch-type buttons, the punch history and a status line."""
from __future__ import annotations

from typing import Callable

from kivy.metrics import sp
from kivy.properties import BooleanProperty, StringProperty
from kivymd.uix.screen import MDScreen

from dakoku_core.domain.model import PunchKind
from kiosk.ui.format import kind_label
from kiosk.ui.widgets import KIND_COLOURS, BigButton


class StandbyScreen(MDScreen):
    date_text = StringProperty("")
    time_text = StringProperty("")
    status_text = StringProperty("")
    history_text = StringProperty("")
    hint_text = StringProperty("")
    show_history = BooleanProperty(True)
    show_timecard = BooleanProperty(True)
    show_help = BooleanProperty(True)
    portrait = BooleanProperty(False)   # taller than wide: stacked layout (kv/standby.kv)
    punching = BooleanProperty(False)   # a card or finger tapped here is being punched: the top buttons wait

    def __init__(self, **kwargs):
        self.register_event_type("on_settings")
        self.register_event_type("on_timecard")
        self.register_event_type("on_help")
        super().__init__(**kwargs)

    def on_timecard(self) -> None:
        """タイムカード was pressed."""

    def on_help(self) -> None:
        """ヘルプ登録 was pressed."""

    def press(self, event: str) -> None:
        """A top button (タイムカード, ヘルプ登録, 設定): ignored while a tap on standby is being punched, whose
        confirmation replaces this screen a moment later (PunchFlow.REVEAL_AFTER)."""
        if not self.punching:
            self.dispatch(event)

    def on_settings(self) -> None:
        """設定 was pressed (the manager flow asks for the manager's password)."""

    def add_punch_buttons(self, kinds: list[PunchKind], on_choose: Callable[[PunchKind], None]) -> None:
        grid = self.ids.punch_buttons
        grid.clear_widgets()
        for kind in kinds:
            button = BigButton(text=kind_label(kind), font_size=sp(44), face_color=KIND_COLOURS[kind])
            button.kind = kind
            button.bind(on_release=lambda b: on_choose(b.kind))
            grid.add_widget(button)

    def relabel(self) -> None:
        """The buttons read the punch types' current names (the server's break labels may have changed)."""
        for button in self.ids.punch_buttons.children:
            button.text = kind_label(button.kind)

    def punch_button(self, kind: PunchKind) -> BigButton:
        return next(b for b in self.ids.punch_buttons.children if b.kind is kind)
