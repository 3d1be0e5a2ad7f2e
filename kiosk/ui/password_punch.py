"""パスワード認証 and タイムカード on the password keypad (part of :class:`~kiosk.ui.punch_flow.PunchFlow`, on the Kivy
thread): the login ID or employee code (or 一覧から選ぶ), then the password; the punch, or the employee's timecard,
runs on the bridge's workers. The keypad's other purposes (the manager's PIN, the 2-factor ID) belong to the manager
and finger flows, which bind the same screen's events for themselves."""
from __future__ import annotations

from typing import TYPE_CHECKING

from dakoku_core.domain.model import PunchResult
from dakoku_core.errors import KioskError, Situation
from kiosk.services.punch import SequenceQuestion
from kiosk.ui import format as fmt

if TYPE_CHECKING:
    from kiosk.ui.flow_host import FlowHost
    from kiosk.ui.punch_flow import PunchFlow


class PasswordPunch:
    def __init__(self, app: "FlowHost", flow: "PunchFlow"):
        self.app = app
        self.flow = flow   # the punch flow this is part of: its public API (countdown, confirmation, question)

    def bind_screen(self, screen) -> None:
        screen.bind(on_back=lambda *_: self.flow.return_home(), on_code=self._code_entered,
                    on_password=self._password_entered, entry=lambda *_: self.flow.restart_countdown(),
                    on_list=lambda *_: self._load_picker())

    def open(self) -> None:
        app = self.app
        if app.punch_screen.purpose == "timecard":
            app.password_screen.start_timecard()
        else:
            app.password_screen.start(app.punch_screen.kind)
        self.flow.restart_countdown()
        app.manager.current = "password"

    def _load_picker(self) -> None:
        """一覧から選ぶ: the employees, read off the Kivy thread, into the list."""
        picker = self.app.password_screen.picker
        self.app.bridge.submit(self.app.kiosk.master.employees, picker.set_employees, self.failed)

    def _code_entered(self, screen, code: str) -> None:
        """The keypad's ID step for パスワード認証 and タイムカード."""
        app = self.app
        if screen.purpose not in ("punch", "timecard"):
            return
        situation = Situation.BROWSER if screen.purpose == "timecard" else Situation.PUNCH
        if screen.choosing and not code:
            self.failed(KioskError("employee_not_selected", situation=situation))
        elif screen.purpose == "timecard":
            app.bridge.submit(lambda: app.kiosk.timecard.find(code), screen.ask_password, self.failed)
        else:
            app.bridge.submit(lambda: app.kiosk.punch_service.find_for_password(code),
                              screen.ask_password, self.failed)

    def _password_entered(self, screen, code: str, password: str) -> None:
        if screen.purpose == "timecard":
            self._timecard_with_password(code, password)
        elif screen.purpose == "punch":
            self._punch(code, password)

    def _timecard_with_password(self, code: str, password: str) -> None:
        """The chosen employee's password is right: their timecard opens, and the punch screen says so."""
        app = self.app

        def opened(employee) -> None:
            app.punch_screen.start_card_action("timecard")
            app.punch_screen.accept_credential()
            app.manager.current = "punch"
            self.flow.show_card_action_done(employee.display_name, fmt.tr("timecard.opened"))

        app.bridge.submit(lambda: app.kiosk.timecard.open_with_password(code, password), opened,
                          self.failed, slow=True)

    def _punch(self, code: str, password: str) -> None:
        app = self.app
        kind = app.password_screen.kind
        app.bridge.submit(lambda: app.kiosk.punch_service.punch_with_password(kind, code, password),
                          self._punched, self.failed)

    def _punched(self, result: PunchResult) -> None:
        screen = self.app.punch_screen
        screen.start_wait(result.punch.kind)
        screen.accept_credential()
        self.app.manager.current = "punch"
        self.flow.show_punched(result)

    def failed(self, error: KioskError) -> None:
        if isinstance(error, SequenceQuestion):   # nothing recorded yet: ask (パスワード認証)
            self.flow.question.ask(error, self._punched, self.failed)
            return
        self.app.sound.play("error")
        self.app.password_screen.failed()
        self.app.presenter.show(error, auto_dismiss_after=self.app.display.error_seconds)
