"""Choosing an employee by touch: the kana initial of the reading (ア カ サ …), then the name. Used by
パスワード認証 and タイムカード beside typing the login ID or employee code. The employees come from the flow
(read off the Kivy thread); this widget only filters and shows them."""
from __future__ import annotations

from kivy.metrics import dp
from kivy.properties import ObjectProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout

from dakoku_core.domain.kana import ROWS, kana_row
from dakoku_core.domain.model import Employee
from dakoku_core.i18n import tr
from kiosk.ui.widgets import BigButton

ROW_FACE, ACTIVE_FACE = (0.88, 0.90, 0.93, 1), (0.20, 0.36, 0.62, 1)
DARK, LIGHT = (0.13, 0.15, 0.18, 1), (1, 1, 1, 1)
NAME_HEIGHT = 84   # dp


def in_row(employees: list[Employee], row: str) -> list[Employee]:
    """The employees whose reading starts in kana row ``row``, by reading."""
    return sorted((e for e in employees if kana_row(e.kana) == row), key=lambda e: (e.kana, e.code))


class EmployeePicker(BoxLayout):
    chosen = ObjectProperty(None, allownone=True)   # the Employee chosen, or None
    row = StringProperty("")
    notice = StringProperty("")

    def __init__(self, **kwargs):
        self._employees: list[Employee] = []
        self._row_buttons: dict[str, BigButton] = {}   # before super(): on_kv_post fills it (made from Python too)
        super().__init__(**kwargs)

    def on_kv_post(self, _base_widget) -> None:
        """The rule's children exist (also when this picker is declared inside another rule)."""
        for row in ROWS:
            button = BigButton(text=row, font_size=dp(34), face_color=ROW_FACE, text_color=DARK)
            button.bind(on_release=lambda _b, r=row: self.show_row(r))
            self.ids.rows.add_widget(button)
            self._row_buttons[row] = button

    def set_employees(self, employees: list[Employee]) -> None:
        """A fresh start: nobody chosen, no row open."""
        self._employees, self.chosen, self.row = list(employees), None, ""
        self.notice = tr("picker.choose_row")
        self.ids.names.clear_widgets()
        self._paint_rows()

    def show_row(self, row: str) -> None:
        self.row, self.chosen = row, None
        self._paint_rows()
        names = self.ids.names
        names.clear_widgets()
        found = in_row(self._employees, row)
        self.notice = tr("picker.choose_name") if found else tr("registration.none_in_row")
        for employee in found:
            button = BigButton(text=f"{employee.display_name}   ({employee.code})", font_size=dp(28),
                               size_hint_y=None, height=dp(NAME_HEIGHT), face_color=ROW_FACE, text_color=DARK)
            button.employee = employee
            button.bind(on_release=lambda b: self.choose(b.employee))
            names.add_widget(button)

    def choose(self, employee: Employee) -> None:
        self.chosen = employee
        for button in self.ids.names.children:
            active = button.employee is employee
            button.face_color, button.text_color = (ACTIVE_FACE, LIGHT) if active else (ROW_FACE, DARK)

    def name_button(self, text: str) -> BigButton:
        """The listed name containing ``text`` (for tests and the demo)."""
        return next(b for b in self.ids.names.children if text in b.text)

    def row_button(self, row: str) -> BigButton:
        return self._row_buttons[row]

    def _paint_rows(self) -> None:
        for row, button in self._row_buttons.items():
            active = row == self.row
            button.face_color, button.text_color = (ACTIVE_FACE, LIGHT) if active else (ROW_FACE, DARK)
