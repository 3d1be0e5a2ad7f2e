"""設定 (manager only): sections on the left (across the top in portrait), their rows beside (below) them, and
終了 (the only way out of the kiosk) and 設定を閉じる in the header. The screen only shows what the
manager flow gives it; every action is an event the flow handles off the UI thread."""
from __future__ import annotations

from typing import Callable

from kivy.metrics import dp, sp
from kivy.properties import BooleanProperty, ColorProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout
from kivymd.uix.screen import MDScreen

from dakoku_core.i18n import tr
from kiosk.ui.widgets import BigButton

BADGE_COLOURS = {"ok": (0.10, 0.52, 0.32, 1), "fail": (0.75, 0.18, 0.12, 1), "skipped": (0.5, 0.5, 0.5, 1)}
SECTION_COLOUR, ACTIVE_COLOUR = (0.88, 0.90, 0.93, 1), (0.20, 0.36, 0.62, 1)
QUIT_COLOUR = (0.72, 0.22, 0.18, 1)   # 終了する: the red of the header's 終了, not the blue of an everyday action


class SettingsRow(BoxLayout):
    title = StringProperty("")
    value = StringProperty("")
    badge = StringProperty("")
    badge_color = ColorProperty((0.5, 0.5, 0.5, 1))


class SettingsScreen(MDScreen):
    section = StringProperty("")
    notice = StringProperty("")
    portrait = BooleanProperty(False)   # taller than wide: sections across the top (kv/settings.kv)

    def __init__(self, **kwargs):
        self.register_event_type("on_close")
        self.register_event_type("on_quit")
        self.register_event_type("on_choose_section")
        super().__init__(**kwargs)
        self._section_buttons: dict[str, BigButton] = {}

    def on_close(self) -> None: ...
    def on_quit(self) -> None: ...     # 終了: the manager flow asks to confirm, then stops the kiosk
    def on_choose_section(self, name: str) -> None: ...

    def set_sections(self, names: list[str]) -> None:
        nav = self.ids.nav
        for name in names:
            button = BigButton(text=tr(f"settings.section.{name}"), font_size=sp(22), face_color=SECTION_COLOUR,
                               text_color=(0.13, 0.15, 0.18, 1))
            button.bind(on_release=lambda _b, n=name: self.dispatch("on_choose_section", n))
            nav.add_widget(button)
            self._section_buttons[name] = button

    def show_section(self, name: str, actions: list[tuple[str, Callable[[], None]]]) -> None:
        self.section, self.notice = name, ""
        for key, button in self._section_buttons.items():
            active = key == name
            button.face_color = ACTIVE_COLOUR if active else SECTION_COLOUR
            button.text_color = (1, 1, 1, 1) if active else (0.13, 0.15, 0.18, 1)
        self.ids.actions.clear_widgets()
        for label, callback in actions:
            button = BigButton(text=label, font_size=sp(24), face_color=QUIT_COLOUR if name == "quit" else ACTIVE_COLOUR)
            button.bind(on_release=lambda _b, cb=callback: cb())
            self.ids.actions.add_widget(button)
        self.ids.rows.clear_widgets()
        self.ids.rows_scroll.scroll_y = 1   # at its top, not where the previous section was left scrolled

    def set_rows(self, rows: list[tuple[str, str, str]]) -> None:
        """Rows of (title, value, badge) where badge is "", "ok", "fail" or "skipped"."""
        container = self.ids.rows
        container.clear_widgets()
        for title, value, badge in rows:
            container.add_widget(SettingsRow(
                title=title, value=value, badge=tr(f"check.{badge}") if badge else "",
                badge_color=BADGE_COLOURS.get(badge, (0.5, 0.5, 0.5, 1))))

    def set_buttons(self, items: list[tuple[str, Callable[[], None]]]) -> None:
        """Rows that are buttons (e.g. employees to choose from): large, one per line."""
        container = self.ids.rows
        container.clear_widgets()
        for label, callback in items:
            button = BigButton(text=label, font_size=sp(22), size_hint_y=None, height=dp(64),
                               face_color=SECTION_COLOUR, text_color=(0.13, 0.15, 0.18, 1))
            button.bind(on_release=lambda _b, cb=callback: cb())
            container.add_widget(button)

    def show_form(self, form: BoxLayout) -> None:
        self.ids.rows.clear_widgets()
        self.ids.rows.add_widget(form)

    def set_busy(self, notice: str) -> None:
        self.notice = notice
        for button in self.ids.actions.children:
            button.disabled = bool(notice)
