"""Punch: wait for a credential after a punch type was chosen, then confirm (name, type, time, greeting).

Phases: ``wait`` (accepting one credential) → ``busy`` (the punch is being committed) → ``done``
(confirmation). Only ``wait`` accepts a credential, so one tap is one punch."""
from __future__ import annotations

import time

from kivy.properties import BooleanProperty, ColorProperty, OptionProperty, StringProperty
from kivymd.uix.screen import MDScreen

from dakoku_core.domain.model import PunchKind, PunchResult
from dakoku_core.i18n import tr
from kiosk.ui.format import clock_line, kind_label
from kiosk.ui.widgets import KIND_COLOURS

TIMECARD_COLOUR = (0.25, 0.29, 0.36, 1)
HINT_SECONDS = 3.0


class PunchScreen(MDScreen):
    phase = OptionProperty("wait", options=["wait", "busy", "done"])
    purpose = OptionProperty("punch", options=["punch", "timecard", "help"])
    kind_text = StringProperty("")
    kind_color = ColorProperty((0, 0, 0, 1))
    headline = StringProperty("")
    time_text = StringProperty("")
    greeting = StringProperty("")
    note = StringProperty("")
    undo_text = StringProperty("")     # 「取り消し (5)」 while the confirmation offers an undo (kiosk.ui.undo_offer)
    finger = BooleanProperty(False)     # a fingerprint sensor is configured: a finger punches too
    kind: PunchKind = PunchKind.CLOCK_IN
    _hint_until = 0.0

    def __init__(self, **kwargs):
        self.register_event_type("on_back")
        self.register_event_type("on_password")
        self.register_event_type("on_undo")
        super().__init__(**kwargs)

    def on_back(self) -> None:
        """The person pressed 戻る (the app returns to standby)."""

    def on_password(self) -> None:
        """The person chose パスワード認証 instead of a card."""

    def on_undo(self) -> None:
        """The person touched 取り消し on the confirmation."""

    def press_back(self) -> None:
        """戻る: not while a punch is being committed (its confirmation follows at once); タイムカード and ヘルプ登録
        wait for the server, and 戻る leaves them."""
        if not (self.phase == "busy" and self.purpose == "punch"):
            self.dispatch("on_back")

    def press_password(self) -> None:
        """パスワード認証 / 従業員を選択: waiting, or on a confirmation still offering 取り消し (the next person)."""
        if self.phase != "busy":
            self.dispatch("on_password")

    def show_cancelled(self, text: str) -> None:
        """The punch on the confirmation was cancelled (its correction is in the ledger)."""
        self.greeting, self.note, self.kind_color = text, "", TIMECARD_COLOUR

    def start_card_action(self, purpose: str) -> None:
        """タイムカード or ヘルプ登録: the next card is for that, not for a punch."""
        self.purpose = purpose
        self.kind_text, self.kind_color = tr(f"{purpose}.title"), TIMECARD_COLOUR
        self.headline, self.time_text, self.greeting, self.note = tr("wait.tap_card"), "", "", ""
        self.phase = "wait"

    def show_card_action_done(self, name: str, message: str) -> None:
        self.phase = "done"
        self.headline = tr("confirm.name", name=name)
        self.greeting, self.note = message, ""

    def set_finger(self, available: bool) -> None:
        """The sensor failed or came back: the wait headline offers a finger only when one would be read."""
        self.finger = available
        if self.phase == "wait" and self.purpose == "punch":
            self.headline = tr("wait.tap_card_or_finger") if available else tr("wait.tap_card")

    def start_wait(self, kind: PunchKind) -> None:
        self._hint_until = 0.0
        self.purpose = "punch"
        self.kind = kind
        self.kind_text, self.kind_color = kind_label(kind), KIND_COLOURS[kind]
        self.headline = tr("wait.tap_card_or_finger") if self.finger else tr("wait.tap_card")
        self.time_text, self.greeting = "", ""
        self.phase = "wait"

    def show_countdown(self, seconds: int) -> None:
        if self.phase == "wait" and time.monotonic() >= self._hint_until:
            self.note = tr("wait.countdown", seconds=seconds)

    def show_hint(self, text: str, seconds: float = HINT_SECONDS) -> None:
        """A passing hint in the note line (e.g. "centre your finger"): the countdown waits until it was read."""
        if self.phase == "wait":
            self.note = text
            self._hint_until = time.monotonic() + seconds

    def accept_credential(self) -> bool:
        """Take one credential if waiting for one; False means it must be ignored (debounce)."""
        if self.phase != "wait":
            return False
        self.phase = "busy"
        return True

    def show_result(self, result: PunchResult) -> None:
        self.phase = "done"
        self.headline = tr("confirm.name", name=result.employee.display_name)
        self.time_text = clock_line(result.punch.stamped_at)[:5]
        self.greeting = tr(result.greeting_key)
        self.note = tr("confirm.offline") if result.punch.offline else tr("confirm.punched", kind=self.kind_text)
