"""設定 › 接続先変更, by touch: two ways, one form (layout in kv/connection.kv).

- **ペアリングコードで設定** (the default): the server address, the pairing code and the check code that
  ``kiosk-server recorders pair`` printed, typed on large on-screen keys (letters and digits pages), pasted, or
  typed by a keyboard or a 2D barcode reader in keyboard mode (its ``dakoku-pair:…`` line fills all three).
- **接続文字列と証明書**: the texts of the admin's e-mail, each with a 貼り付け button (Kivy's clipboard); the
  connection string also on the keys; the certificate is pasted (or typed with Ctrl+V), never keyed in.

Each field is a real TextInput: with Kivy's ``keyboard_mode`` ``system`` (kiosk.ui.window) physical keys and Ctrl+V
work, and no English virtual keyboard covers the form. The form only gathers text: :meth:`submission` hands the
manager flow the call to run on the worker (kiosk.sync_wiring: ``pair`` or ``change_connection``).
"""
from __future__ import annotations

from typing import Callable

from kivy.core.clipboard import Clipboard
from kivy.properties import BooleanProperty, ObjectProperty, OptionProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.modalview import ModalView

from dakoku_core.protocol.pairing import CHECK_LENGTH, PREFIX, normalise, split_scanned
from kiosk.ui.keypad import Keypad  # noqa: F401 - kv/connection.kv places it
from kiosk.ui.widgets import BigButton  # noqa: F401 - kv/connection.kv places it

# Letters start in capitals (codes); ⇧ gives small letters (a proxy password, a connection string's values).
LETTER_PAGE = tuple("abcdefghijklmnopqrstuvwxyz") + ("-", ".", ":", "shift", "clear", "back")
DIGIT_PAGE = tuple("1234567890") + (".", ":", "-", "/", "_", "@", "=", ";", "clear", "back")
FIELDS = {"pairing": ("host", "code", "check"), "manual": ("connection", "certificate")}
MAX_TYPED = 500


class PasteField(BoxLayout):
    """A title, a text input and a 貼り付け button; ``on_chosen`` when the manager taps into it or pastes."""
    title = StringProperty("")
    hint = StringProperty("")
    multiline = BooleanProperty(False)

    def __init__(self, **kwargs):
        self.register_event_type("on_chosen")
        super().__init__(**kwargs)

    def on_chosen(self) -> None: ...

    @property
    def text(self) -> str:
        return self.ids.input.text

    @text.setter
    def text(self, value: str) -> None:
        self.ids.input.text = value

    def paste(self, clipboard_text: str | None = None) -> None:
        """Replace the text with the clipboard's (one line for single-line fields: line breaks dropped)."""
        text = Clipboard.paste() if clipboard_text is None else clipboard_text
        self.ids.input.text = text.strip() if self.multiline else "".join(text.split())
        self.dispatch("on_chosen")


class KeySheet(ModalView):
    """The on-screen keys, docked at the bottom of the window like a keyboard, for the chosen field: its title
    and text in large type above letters / digits pages. 完了 or a tap outside closes it."""
    field = ObjectProperty(None, allownone=True)    # the PasteField typed into
    digits = BooleanProperty(False)                 # the digits page is shown
    echo = StringProperty("")                       # the field's text, shown large

    def __init__(self, **kwargs):
        self.register_event_type("on_key")
        super().__init__(**kwargs)
        self._shown = None

    def on_field(self, _sheet, field) -> None:
        if self._shown is not None:
            self._shown.ids.input.unbind(text=self._echo)
        self._shown = field
        if field is not None:
            field.ids.input.bind(text=self._echo)
            self.echo = field.text

    def _echo(self, _input, text: str) -> None:
        self.echo = text

    def on_kv_post(self, _base_widget) -> None:
        self.ids.keypad.bind(on_key=lambda _k, key: self.dispatch("on_key", key))

    def on_key(self, key: str) -> None: ...

    def key(self, name: str):
        """The key button ``name`` on the page shown (for tests and the demo)."""
        return next(b for b in self.ids.keypad.children if b.key == name)


def typed(text: str, key: str) -> str:
    """The field's text after one on-screen key."""
    if key == "clear":
        return ""
    if key == "back":
        return text[:-1]
    return text + key if len(text) < MAX_TYPED else text


class ConnectionForm(BoxLayout):
    mode = OptionProperty("pairing", options=["pairing", "manual"])
    target = StringProperty("host")          # the field the on-screen keys type into

    def on_kv_post(self, _base_widget) -> None:
        # Strong references: a field taken out of the tree (the other mode's) must not be collected.
        self.fields = {name: self.ids[f"{name}_field"] for names in FIELDS.values() for name in names}
        self.fields["proxy"] = self.ids.proxy_field
        self.sheet = KeySheet()
        self.sheet.bind(on_key=lambda _s, key: self.press(key))
        for name, field in self.fields.items():
            field.bind(on_chosen=lambda _f, n=name: setattr(self, "target", n))
            field.ids.input.bind(focus=lambda _i, focused, n=name: focused and self.choose(n))
        for name in FIELDS["pairing"]:      # a barcode reader types wherever the focus is
            self.fields[name].ids.input.bind(on_text_validate=lambda _i, n=name: self.take_scanned_line(n),
                                             text=lambda _i, _t, n=name: self._maybe_scanned(n))
        self._show_mode()

    def on_parent(self, _widget, parent) -> None:
        if parent is None and hasattr(self, "sheet"):
            self.sheet.dismiss()             # the section was left: the keys go too
            if getattr(self, "_screen", None) is not None:
                self._screen.unbind(on_pre_leave=self._screen_left)
                self._screen = None

    def on_mode(self, *_args) -> None:
        if hasattr(self, "fields"):
            self.sheet.dismiss()
            self._show_mode()

    def _show_mode(self) -> None:
        box = self.ids.mode_fields
        box.clear_widgets()
        for name in FIELDS[self.mode]:
            box.add_widget(self.fields[name])
        self.target = FIELDS[self.mode][0]

    def choose(self, name: str) -> None:
        """A tap into a field: the keys type there (the certificate is pasted, it gets no keys)."""
        self.target = name
        field = self.fields[name]
        if field.multiline:
            self.sheet.dismiss()
            return
        self.sheet.field = field
        if self.sheet.parent is None:
            self._close_with_screen()
            self.sheet.open(animation=False)

    def _close_with_screen(self) -> None:
        """The keys close when the settings screen is left (閉じる, the idle timeout), not only with the form."""
        from kivy.uix.screenmanager import Screen
        node = self.parent
        while node is not None and not isinstance(node, Screen):
            node = node.parent
        if node is not None and getattr(self, "_screen", None) is None:
            node.bind(on_pre_leave=self._screen_left)
            self._screen = node

    def _screen_left(self, *_args) -> None:
        self.sheet.dismiss()

    def field(self, name: str) -> PasteField:
        return self.fields[name]

    def press(self, key: str) -> None:
        field = self.fields[self.target]
        if not field.multiline:
            field.text = typed(field.text, key)

    def take_scanned_line(self, name: str = "code") -> bool:
        """A ``dakoku-pair:host:port:CODE:CHECK`` line in a pairing field fills the three fields."""
        try:
            scanned = split_scanned(self.fields[name].text)
        except Exception:  # noqa: BLE001 - a malformed line stays as typed; the service reports it on 保存
            return False
        if scanned is None:
            return False
        for field, value in zip(FIELDS["pairing"], scanned):
            self.fields[field].text = value
        self.target = "code"
        return True

    def _maybe_scanned(self, name: str) -> None:
        """Fill the fields as soon as a typed-in line is complete (a reader may send no Enter)."""
        text = self.fields[name].text
        if text.lower().startswith(PREFIX) and text.count(":") >= 4:
            if len(normalise(text.rsplit(":", 1)[1])) >= CHECK_LENGTH:
                self.take_scanned_line(name)

    def values(self) -> tuple[str, str, str]:
        """The manual texts: connection string, certificate, proxy."""
        return self.fields["connection"].text, self.fields["certificate"].text, self.fields["proxy"].text

    def submission(self, sync) -> Callable[[], object]:
        """The blocking call that applies what the form holds (for the bridge's worker)."""
        proxy = self.fields["proxy"].text
        if self.mode == "pairing":
            host, code, check = (self.fields[name].text for name in FIELDS["pairing"])
            return lambda: sync.pair(host, code, check, proxy_url=proxy)
        connection, certificate, _proxy = self.values()
        return lambda: sync.change_connection(connection, certificate, proxy_url=proxy)
