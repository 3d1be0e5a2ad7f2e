"""The demo panel: "tap" the demo cards on the simulated reader, by touch or with keys 1–9."""
from __future__ import annotations

from kivy.core.window import Window
from kivy.metrics import sp
from kivy.uix.boxlayout import BoxLayout

from kiosk.adapters.simulated_reader import SimulatedCardReader
from kiosk.demo import DEMO_CARDS
from kiosk.ports import MasterData
from kiosk.i18n import tr
from kiosk.ui.widgets import BigButton


class DemoPanel(BoxLayout):
    def __init__(self, reader: SimulatedCardReader, master: MasterData, **kwargs):
        super().__init__(**kwargs)
        self.reader = reader
        for number, card in enumerate(DEMO_CARDS, start=1):
            employee = master.employee_by_code_or_login(card.employee_code) if card.employee_code else None
            name = employee.last_name if employee else tr("demo.unknown_name")
            label = f"{number} {name}\n{tr(f'demo.card.{card.role}')}"
            button = BigButton(text=label, font_size=sp(15), face_color=(0.30, 0.34, 0.40, 1))
            button.card_id = card.card_id
            button.bind(on_release=lambda b: self.reader.tap(b.card_id))
            self.ids.cards.add_widget(button)
        Window.bind(on_key_down=self._on_key_down)

    def _on_key_down(self, _window, _key, _scancode, codepoint, _modifiers) -> bool:
        if codepoint and codepoint in "123456789" and int(codepoint) <= len(DEMO_CARDS):
            self.reader.tap(DEMO_CARDS[int(codepoint) - 1].card_id)
            return True
        return False

    def unbind_keys(self) -> None:
        Window.unbind(on_key_down=self._on_key_down)
