"""パスワード認証: employee code, then password, each on a large on-screen keypad.

Kivy's on-screen keyboard has no Japanese layout, so codes and passwords are digits (the kiosk's PINs)."""
from __future__ import annotations

from kivy.properties import BooleanProperty, ColorProperty, OptionProperty, StringProperty
from kivymd.uix.screen import MDScreen

from kiosk.domain.model import Employee, PunchKind
from kiosk.i18n import tr
from kiosk.ui.format import kind_label
from kiosk.ui.widgets import KIND_COLOURS, BigButton

KEYS = ("1", "2", "3", "4", "5", "6", "7", "8", "9", "clear", "0", "back")
MAX_LENGTH = 20
MANAGER_COLOUR = (0.25, 0.29, 0.36, 1)


class PasswordScreen(MDScreen):
    purpose = OptionProperty("punch", options=["punch", "manager", "finger_id"])   # punch, 設定, 2-factor finger
    step = OptionProperty("code", options=["code", "password"])
    busy = BooleanProperty(False)
    kind_text = StringProperty("")
    kind_color = ColorProperty((0, 0, 0, 1))
    prompt = StringProperty("")
    entry = StringProperty("")
    shown_entry = StringProperty("")
    kind: PunchKind = PunchKind.CLOCK_IN
    code: str = ""

    def __init__(self, **kwargs):
        for event in ("on_back", "on_code", "on_password"):
            self.register_event_type(event)
        super().__init__(**kwargs)
        for key in KEYS:
            label = {"clear": tr("button.clear"), "back": tr("button.backspace")}.get(key, key)
            button = BigButton(text=label, font_size=40, face_color=(1, 1, 1, 1), text_color=(0.13, 0.15, 0.18, 1))
            button.key = key
            button.bind(on_release=lambda b: self.press(b.key))
            self.ids.keypad.add_widget(button)

    # events the app listens to
    def on_back(self) -> None: ...
    def on_code(self, code: str) -> None: ...
    def on_password(self, code: str, password: str) -> None: ...

    def start(self, kind: PunchKind) -> None:
        self.purpose = "punch"
        self.kind, self.kind_text, self.kind_color = kind, kind_label(kind), KIND_COLOURS[kind]
        self.step, self.code, self.busy = "code", "", False
        self.prompt = tr("password.enter_code")
        self._set_entry("")

    def start_manager(self) -> None:
        """設定 was pressed: only the manager's password, no employee code."""
        self.purpose, self.kind_text, self.kind_color = "manager", tr("settings.title"), MANAGER_COLOUR
        self.step, self.code, self.busy = "password", "", False
        self.prompt = tr("manager.enter_pin")
        self._set_entry("")

    def start_finger_id(self, kind: PunchKind) -> None:
        """2-factor fingerprint: several employees matched; the login ID or employee code says who it is."""
        self.start(kind)
        self.purpose = "finger_id"
        self.prompt = tr("finger.enter_id")

    def ask_password(self, employee: Employee) -> None:
        self.step, self.busy = "password", False
        self.prompt = tr("password.enter_password", name=employee.display_name)
        self._set_entry("")

    def press(self, key: str) -> None:
        if key == "clear":
            self._set_entry("")
        elif key == "back":
            self._set_entry(self.entry[:-1])
        elif len(self.entry) < MAX_LENGTH:
            self._set_entry(self.entry + key)

    def submit(self) -> None:
        if self.busy:
            return
        self.busy = True
        if self.step == "code":
            self.code = self.entry
            self.dispatch("on_code", self.entry)
        else:
            self.dispatch("on_password", self.code, self.entry)

    def failed(self) -> None:
        """The app showed an error: let the person correct the entry."""
        self.busy = False
        self._set_entry("")

    def _set_entry(self, value: str) -> None:
        self.entry = value
        self.shown_entry = "●" * len(value) if self.step == "password" else value
