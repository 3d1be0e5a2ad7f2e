"""On-screen keypads for codes, login IDs and passwords: Kivy's own keyboard has no Japanese layout and pops up
over the kiosk, so every entry is typed on these large keys instead (each at least :data:`MIN_KEY` wide and high,
about 12 mm on a 160 dpi panel).

:class:`Keypad` is the grid of keys (digits, or letters for login IDs such as ``sato``; ⇧ for capitals);
:class:`CodeEntry` is an entry line, a keypad and a search button, for 認証登録's 従業員コード."""
from __future__ import annotations

from kivy.metrics import dp
from kivy.properties import BooleanProperty, ColorProperty, NumericProperty, ObjectProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.gridlayout import GridLayout

from dakoku_core.i18n import tr
from kiosk.ui.widgets import BigButton

DIGITS = ("1", "2", "3", "4", "5", "6", "7", "8", "9", "clear", "0", "back")
# 4 columns × 3 rows (as on a cash machine: the digits' 3×3 kept, クリア, ← and 0 in a column of their own): a
# quarter lower, so 認証登録's code entry fits under the kana initials at 1280×800 (issue 12)
DIGITS_WIDE = ("1", "2", "3", "back", "4", "5", "6", "clear", "7", "8", "9", "0")
LETTERS = tuple("abcdefghijklmnopqrstuvwxyz") + ("-", "_", ".", "shift", "clear", "back")
MIN_KEY = 76          # dp: 12 mm at 160 dpi
KEY_HEIGHT = 84       # dp: a key's natural height (over MIN_KEY, so a key stays touch-sized where rows round down)
KEY_PITCH = 88        # dp per letter column (key + spacing)
MAX_LENGTH = 20
KEY_FACE, KEY_TEXT, SHIFT_ON = (1, 1, 1, 1), (0.13, 0.15, 0.18, 1), (0.80, 0.86, 0.95, 1)


class Keypad(GridLayout):
    """The keys; ``on_key`` gets a character, ``"clear"`` or ``"back"`` (⇧ is handled here)."""
    letters = BooleanProperty(False)
    upper = BooleanProperty(False)
    key_face = ColorProperty(KEY_FACE)   # on a white panel, a grey face shows where each key is
    layout = ObjectProperty(None, allownone=True)   # keys of a page of its own (e.g. 接続先変更), else DIGITS/LETTERS
    wide = BooleanProperty(False)        # digits as DIGITS_WIDE (4 columns) instead of a phone's 3
    natural_height = NumericProperty(0)  # rows × KEY_HEIGHT and the spacing between them: for a layout to give it

    def __init__(self, **kwargs):
        self.register_event_type("on_key")
        super().__init__(**kwargs)
        self.bind(letters=lambda *_: self._build(), upper=lambda *_: self._build(), key_face=lambda *_: self._build(),
                  layout=lambda *_: self._build(), wide=lambda *_: self._build(), width=lambda *_: self._fit(),
                  spacing=lambda *_: self._fit())
        self._build()

    def on_key(self, key: str) -> None: ...

    def _build(self) -> None:
        self.clear_widgets()
        for key in self.layout or (LETTERS if self.letters else DIGITS_WIDE if self.wide else DIGITS):
            label = {"clear": tr("button.clear"), "back": tr("button.backspace"), "shift": "⇧"}.get(key, key)
            if self.upper and len(key) == 1:
                label = key = key.upper()
            face = SHIFT_ON if key == "shift" and self.upper else self.key_face
            size = 48 if key == "shift" else 36 if len(label) == 1 else 18 if self.letters else 24
            button = BigButton(text=label, font_size=dp(size), face_color=face, text_color=KEY_TEXT)
            button.key = key
            button.bind(on_release=lambda b: self._pressed(b.key))
            self.add_widget(button)
        self._fit()

    def _fit(self) -> None:
        """Digits: 3 columns (4 when wide). Letters: as many columns of touch-sized keys as the width holds (5 to 8)."""
        if self.letters or self.layout:
            self.cols = max(5, min(8, int(self.width // dp(KEY_PITCH))))
        else:
            self.cols = 4 if self.wide else 3
        rows = -(-len(self.children) // self.cols)
        self.natural_height = rows * dp(KEY_HEIGHT) + max(0, rows - 1) * self.spacing[1]

    def _pressed(self, key: str) -> None:
        if key == "shift":
            self.upper = not self.upper
        else:
            self.dispatch("on_key", key)


def edited(entry: str, key: str) -> str:
    """The entry after one key."""
    if key == "clear":
        return ""
    if key == "back":
        return entry[:-1]
    return entry + key if len(entry) < MAX_LENGTH else entry


class CodeEntry(BoxLayout):
    """認証登録: type the 従業員コード (or login ID) and press 検索; the flow gets ``on_search(text)``."""
    entry = StringProperty("")

    def __init__(self, **kwargs):
        self.register_event_type("on_search")
        super().__init__(**kwargs)

    def on_kv_post(self, _base_widget) -> None:
        self.ids.keypad.bind(on_key=lambda _k, key: setattr(self, "entry", edited(self.entry, key)))

    def on_search(self, text: str) -> None: ...
