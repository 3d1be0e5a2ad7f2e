"""The demo panel: "tap" the demo cards on the simulated reader (touch or keys 1–9) and, with the simulated
fingerprint sensor, "place" the demo employees' synthetic fingers (touch or keys q, w, e, r)."""
from __future__ import annotations

from kivy.core.window import Window
from kivy.metrics import dp, sp
from kivy.uix.boxlayout import BoxLayout

from kiosk.adapters.simulated_reader import SimulatedCardReader
from dakoku_core.demo import DEMO_CARDS, EMPLOYEES
from dakoku_core.i18n import tr
from kiosk.ui.widgets import BigButton

FINGER_KEYS = "qwer"
# The demo company is the same offline and on the demo server (dakoku_core/demo.py): label the buttons from its
# definition, not from master data that a freshly connected demo is still pulling.
DEMO_NAMES = {row[0]: row[1] for row in EMPLOYEES}
FINGER_COLOUR = (0.24, 0.33, 0.30, 1)
TITLE, ROW, GAP, PAD = 22, 64, 8, 6   # dp: the title line, a row of buttons, between rows, above and below
INSET = 6             # dp: a card button's padding (BigButton's 12 cut 「パスワード打刻可」 at 1280 wide)


class DemoPanel(BoxLayout):
    def __init__(self, reader: SimulatedCardReader, sensor=None, demo_fingers: int = 3,
                 **kwargs):
        super().__init__(**kwargs)
        self.reader = reader
        self.sensor = sensor
        self.fingers: list[int] = []
        for number, card in enumerate(DEMO_CARDS, start=1):
            name = DEMO_NAMES.get(card.employee_code) or tr("demo.unknown_name")
            label = f"{number} {name}\n{tr(f'demo.card.{card.role}')}"
            button = BigButton(text=label, font_size=sp(15), face_color=(0.30, 0.34, 0.40, 1), padding=dp(INSET))
            button.card_id = card.card_id
            button.bind(on_release=lambda b: self.reader.tap(b.card_id))
            self.ids.cards.add_widget(button)
        self.finger_row = None
        if sensor is not None:
            self._add_fingers(demo_fingers)
        self.bind(width=lambda *_: self.fit())
        self.fit()
        Window.bind(on_key_down=self._on_key_down)

    def fit(self) -> None:
        """The fewest rows of card buttons in which every label is whole, the buttons spread evenly over them
        (9 in one row at 1280 wide, 5 + 4 at 800); the panel's height for them."""
        cards = self.ids.cards
        count = len(cards.children)
        room = self.width - self.padding[0] - self.padding[2] + dp(GAP)
        fitting = max(1, min(count, int(room // (self._widest_button() + dp(GAP)))))
        rows = -(-count // fitting)
        cards.cols = -(-count // rows)
        height = dp(TITLE) + self.spacing + rows * dp(ROW) + (rows - 1) * dp(GAP) + 2 * dp(PAD)
        if self.finger_row is not None:
            height += self.spacing + self.finger_row.height
        self.height = height

    def _widest_button(self) -> float:
        """The width a card button needs for its longest label line and its padding."""
        from kiosk.ui.screens.fit import text_size

        lines = [line for b in self.ids.cards.children for line in b.text.split("\n")]
        return max(text_size(line, sp(15), bold=True)[0] for line in lines) + 2 * dp(INSET) + dp(2)

    def _add_fingers(self, demo_fingers: int) -> None:
        from kiosk.demo_fingers import demo_finger_buttons

        row = BoxLayout(spacing=dp(GAP), size_hint_y=None, height=dp(46))
        for key, (code, finger) in zip(FINGER_KEYS, demo_finger_buttons(demo_fingers)):
            label = tr("demo.finger", name=DEMO_NAMES[code]) if code in DEMO_NAMES else tr("demo.finger.unknown")
            button = BigButton(text=f"{key.upper()}  {label}", font_size=sp(15), face_color=FINGER_COLOUR)
            button.finger = finger
            button.bind(on_release=lambda b: self.sensor.place_finger(b.finger))
            row.add_widget(button)
            self.fingers.append(finger)
        self.finger_row = row
        self.add_widget(row)

    def _on_key_down(self, _window, _key, _scancode, codepoint, _modifiers) -> bool:
        if codepoint and codepoint in "123456789" and int(codepoint) <= len(DEMO_CARDS):
            self.reader.tap(DEMO_CARDS[int(codepoint) - 1].card_id)
            return True
        if codepoint and self.fingers and codepoint in FINGER_KEYS[:len(self.fingers)]:
            self.sensor.place_finger(self.fingers[FINGER_KEYS.index(codepoint)])
            return True
        return False

    def unbind_keys(self) -> None:
        Window.unbind(on_key_down=self._on_key_down)
