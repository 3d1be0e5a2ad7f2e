"""打刻時警告 on the Kivy thread: a punch that does not follow the employee's punches of the work day (the service
raised :class:`~kiosk.services.punch.SequenceQuestion`) asks 「『出勤』の記録がありません。『退勤』処理を行ってよろしい
ですか？」 with はい / いいえ. はい records it (``PunchService.confirm``, on the punch worker), いいえ or no answer
within the wait time records nothing. One question at a time; while it is open no card or finger punches."""
from __future__ import annotations

from typing import TYPE_CHECKING, Callable

from kivy.clock import Clock
from kivy.properties import NumericProperty, StringProperty
from kivy.uix.modalview import ModalView

from dakoku_core.errors import KioskError
from kiosk.services.punch import SequenceQuestion
from kiosk.ui import format as fmt

if TYPE_CHECKING:
    from kiosk.ui.flow_host import FlowHost


class QuestionDialog(ModalView):
    message = StringProperty("")
    seconds_left = NumericProperty(0)

    def dismiss(self, *args, **kwargs):
        kwargs.setdefault("animation", False)   # gone at once: a fading overlay would swallow the next touch
        return super().dismiss(*args, **kwargs)


class SequenceAsk:
    def __init__(self, app: "FlowHost", on_declined: Callable[[], None]):
        self.app = app
        self._on_declined = on_declined   # いいえ or no answer: the punch flow goes back (wait or standby)
        self.dialog: QuestionDialog | None = None
        self.question: SequenceQuestion | None = None
        self._answered: tuple[Callable, Callable] | None = None
        self._tick = None

    @property
    def is_open(self) -> bool:
        return self.dialog is not None

    def ask(self, question: SequenceQuestion, on_punched: Callable, on_failed: Callable[[KioskError], None]) -> None:
        """Show the question; ``on_punched(result)`` / ``on_failed(error)`` follow a はい."""
        if self.is_open:   # cannot happen while the dialog blocks every credential; never two questions
            self._answer(False)
        # the punch types as this kiosk names them (the server's break labels, the device's own wording)
        question.context.update(missing=fmt.kind_label(question.missing), kind=fmt.kind_label(question.kind))
        self.question, self._answered = question, (on_punched, on_failed)
        self.dialog = QuestionDialog(message=question.message(), seconds_left=int(self.app.display.wait_seconds))
        self.dialog.ids.yes_button.bind(on_release=lambda *_: self._answer(True))
        self.dialog.ids.no_button.bind(on_release=lambda *_: self._answer(False))
        self._tick = Clock.schedule_interval(self._count_down, 1)
        self.app.sound.play("error")
        self.dialog.open(animation=False)

    def cancel(self) -> None:
        """The app stops: nothing is recorded."""
        question = self._close()[0]
        if question is not None:
            self.app.kiosk.punch_service.decline(question)   # the bridge is shutting down: here and now

    def _count_down(self, _dt: float) -> None:
        if self.dialog is not None:
            self.dialog.seconds_left -= 1
            if self.dialog.seconds_left <= 0:
                self._answer(False)   # nobody answered: nothing is recorded

    def _close(self) -> tuple:
        answered = (self.question, *(self._answered or (None, None)))
        if self._tick is not None:
            self._tick.cancel()
            self._tick = None
        if self.dialog is not None:
            self.dialog.dismiss()
        self.dialog, self.question, self._answered = None, None, None
        return answered

    def _answer(self, yes: bool) -> None:
        question, on_punched, on_failed = self._close()
        if question is None:
            return   # a second touch on はい: the question was already answered
        service = self.app.kiosk.punch_service
        if yes:
            self.app.bridge.submit(lambda: service.confirm(question), on_punched, on_failed)
        else:
            self._decline(question)
            self._on_declined()

    def _decline(self, question: SequenceQuestion) -> None:
        """Off the Kivy thread: it takes the punch lock."""
        service = self.app.kiosk.punch_service
        self.app.bridge.submit(lambda: service.decline(question), lambda _none: None, lambda _error: None)
