"""パスワード認証 (and タイムカード by selection, and the manager's password): who, then the password.

Who: the login ID or employee code typed on the on-screen keypad (digits, or letters with ABC), or the employee
chosen from the list (kana initial, then name) after 一覧から選ぶ. Kivy's own keyboard is never used."""
from __future__ import annotations

from kivy.properties import BooleanProperty, ColorProperty, OptionProperty, StringProperty
from kivymd.uix.screen import MDScreen

from dakoku_core.domain.model import Employee, PunchKind
from dakoku_core.i18n import tr
from kiosk.ui.employee_picker import EmployeePicker
from kiosk.ui.format import kind_label
from kiosk.ui.keypad import edited
from kiosk.ui.widgets import KIND_COLOURS

MANAGER_COLOUR = TIMECARD_COLOUR = (0.25, 0.29, 0.36, 1)


class PasswordScreen(MDScreen):
    purpose = OptionProperty("punch", options=["punch", "manager", "finger_id", "timecard"])
    step = OptionProperty("code", options=["code", "password"])
    choosing = BooleanProperty(False)   # the employee list instead of the keypad (code step)
    busy = BooleanProperty(False)
    kind_text = StringProperty("")
    kind_color = ColorProperty((0, 0, 0, 1))
    prompt = StringProperty("")
    entry = StringProperty("")
    shown_entry = StringProperty("")
    kind: PunchKind = PunchKind.CLOCK_IN
    code: str = ""

    def __init__(self, **kwargs):
        for event in ("on_back", "on_code", "on_password", "on_list"):
            self.register_event_type(event)
        super().__init__(**kwargs)
        # Strong references: ids are weak, and the one of the two not shown is out of the widget tree.
        self.picker: EmployeePicker = self.ids.picker.__self__
        self.keypad = self.ids.keypad.__self__
        self.ids.panel_body.remove_widget(self.picker)
        self.ids.keypad.bind(on_key=lambda _k, key: self.press(key))
        self.picker.bind(chosen=lambda *_: self._show_chosen())

    # events the app listens to
    def on_back(self) -> None: ...
    def on_code(self, code: str) -> None: ...            # "" with nobody chosen from the list
    def on_password(self, code: str, password: str) -> None: ...
    def on_list(self) -> None: ...                      # 一覧から選ぶ: the flow gives the employees

    def start(self, kind: PunchKind) -> None:
        self.purpose = "punch"
        self.kind, self.kind_text, self.kind_color = kind, kind_label(kind), KIND_COLOURS[kind]
        self._start_code(tr("password.enter_code"))

    def start_timecard(self) -> None:
        """タイムカード without a card: choose the employee (or type the ID), then their password."""
        self.purpose, self.kind_text, self.kind_color = "timecard", tr("timecard.title"), TIMECARD_COLOUR
        self._start_code(tr("password.enter_code"))
        self.show_list()

    def start_manager(self) -> None:
        """設定 was pressed: only the manager's password, no employee code."""
        self.purpose, self.kind_text, self.kind_color = "manager", tr("settings.title"), MANAGER_COLOUR
        self._start_code(tr("manager.enter_pin"))
        self.step = "password"

    def start_finger_id(self, kind: PunchKind) -> None:
        """2-factor fingerprint: several employees matched; the login ID or employee code says who it is."""
        self.start(kind)
        self.purpose = "finger_id"
        self.prompt = tr("finger.enter_id")

    def ask_password(self, employee: Employee) -> None:
        self.show_keypad()
        self.step, self.busy = "password", False
        self.prompt = tr("password.enter_password", name=employee.display_name)
        self._set_entry("")

    def show_list(self) -> None:
        if not self.choosing:
            self.choosing = True
            self._swap(self.keypad, self.picker)
            self.prompt = tr("picker.prompt")
            self.dispatch("on_list")
        self._show_chosen()

    def show_keypad(self) -> None:
        if self.choosing:
            self.choosing = False
            self._swap(self.picker, self.keypad)
            self.prompt = tr("password.enter_code")
            self._set_entry("")

    def press(self, key: str) -> None:
        self._set_entry(edited(self.entry, key))

    def submit(self) -> None:
        if self.busy:
            return
        self.busy = True
        if self.step == "code":
            chosen = self.picker.chosen
            self.code = (chosen.code if chosen is not None else "") if self.choosing else self.entry
            self.dispatch("on_code", self.code)
        else:
            self.dispatch("on_password", self.code, self.entry)

    def failed(self) -> None:
        """The app showed an error: let the person correct the entry."""
        self.busy = False
        if not (self.choosing and self.step == "code"):
            self._set_entry("")

    def _start_code(self, prompt: str) -> None:
        self.show_keypad()
        self.ids.keypad.letters = self.ids.keypad.upper = False
        self.step, self.code, self.busy, self.prompt = "code", "", False, prompt
        self.picker.set_employees([])
        self._set_entry("")

    def _swap(self, old, new) -> None:
        body = self.ids.panel_body
        body.remove_widget(old)
        body.add_widget(new)

    def _show_chosen(self) -> None:
        if self.choosing and self.step == "code":
            chosen = self.picker.chosen
            self.entry = ""
            self.shown_entry = f"{chosen.display_name}" if chosen is not None else ""

    def _set_entry(self, value: str) -> None:
        self.entry = value
        self.shown_entry = "●" * len(value) if self.step == "password" else value
