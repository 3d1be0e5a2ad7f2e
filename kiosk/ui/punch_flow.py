"""The punch flow on the Kivy thread: punch type → credential (card or password) → confirmation or error.

Modes: 都度選択 returns to standby after each punch; モード動作 (``punch_mode: keep``) keeps waiting with the
chosen type; automatic modes let a bare tap on standby punch the type the time of day selects."""
from __future__ import annotations

from typing import TYPE_CHECKING

from kivy.clock import Clock

from kiosk.domain.model import PunchKind, PunchResult
from kiosk.domain.modes import auto_kind
from kiosk.errors import KioskError, Situation
from kiosk.ports import CardEvent
from kiosk.services.punch import SequenceQuestion
from kiosk.ui import format as fmt
from kiosk.ui.sequence_question import SequenceAsk
from kiosk.ui.credential_waits import PunchWaits
from kiosk.ui.undo_offer import UndoOffer

if TYPE_CHECKING:
    from kiosk.ui.app import KioskApp

SETTINGS_IDLE = 120   # seconds: a manager who walks away does not leave the kiosk unable to punch


class PunchFlow:
    def __init__(self, app: "KioskApp"):
        self.app = app
        self.auto_modes = app.display.parsed_auto_modes()
        self.kept_kind: PunchKind | None = None   # モード動作: the type the kiosk keeps waiting with
        self._wait_left = 0
        self._settings_idle = 0
        self._action_token = 0
        self._return_event = None
        self.question = SequenceAsk(app)   # 打刻時警告: はい / いいえ before an out-of-order punch
        self.waits = PunchWaits(app)   # only a card or finger read during the current wait counts
        self.undo = UndoOffer(app)     # 取り消し on the confirmation (issue 12)

    def bind_screens(self) -> None:
        app = self.app
        self.waits.bind_screens()
        app.standby.add_punch_buttons(app.display.visible_kinds(), self.choose_kind)
        app.standby.bind(on_timecard=lambda *_: self.open_card_action("timecard"),
                         on_help=lambda *_: self.open_card_action("help"))
        app.punch_screen.bind(on_back=lambda *_: self.go_standby(), on_password=lambda *_: self.open_password())
        app.punch_screen.bind(on_undo=lambda *_: self.undo.tap())
        app.password_screen.bind(on_back=lambda *_: self.return_home(), on_code=self._password_code,
                                 on_password=self._password_entered, entry=lambda *_: self._reset_wait(),
                                 on_list=lambda *_: self._load_picker())

    # -- choosing and waiting ------------------------------------------------------------------
    def choose_kind(self, kind: PunchKind) -> None:
        """A punch-type button: wait for a credential (in モード動作, keep waiting with this type)."""
        if self.app.display.punch_mode == "keep":
            self.kept_kind = kind
        self._wait_for(kind)

    def _wait_for(self, kind: PunchKind) -> None:
        self.undo.withdraw()
        screen = self.app.punch_screen
        screen.start_wait(kind)
        self._reset_wait()
        if self.kept_kind is None:
            screen.show_countdown(self._wait_left)
        else:
            screen.note = fmt.tr("wait.keep")
        self.app.manager.current = "punch"

    def _reset_wait(self) -> None:
        self._wait_left = int(self.app.display.wait_seconds)

    def return_home(self) -> None:
        """After a confirmation or an error: the kept punch type's wait screen, else standby."""
        if self.kept_kind is not None:
            self._wait_for(self.kept_kind)
        else:
            self.go_standby()

    def go_standby(self) -> None:
        self.undo.withdraw()
        self.kept_kind = None
        self._action_token += 1
        if self._return_event is not None:
            self._return_event.cancel()
            self._return_event = None
        self.app.manager.current = "standby"

    def note_activity(self) -> None:
        """A touch anywhere: the person is still there."""
        self._reset_wait()
        self._settings_idle = 0

    def count_down_wait(self) -> None:
        """Once a second: a chosen punch type (or a half-typed password) does not wait for ever, and
        settings left open return to standby after SETTINGS_IDLE seconds without a touch."""
        app = self.app
        current = app.manager.current
        if current == "settings":
            self._settings_idle += 1
            if self._settings_idle >= SETTINGS_IDLE and not app.presenter.is_open:
                app.manager_flow.close()
            return
        waiting = (current == "password" and not app.password_screen.busy) or (
            current == "punch" and app.punch_screen.phase == "wait" and self.kept_kind is None)
        if waiting and not app.presenter.is_open:
            self._wait_left -= 1
            app.punch_screen.show_countdown(max(self._wait_left, 0))
            if self._wait_left <= 0:
                self.return_home()

    # -- a card --------------------------------------------------------------------------------
    def handle_card(self, event: CardEvent) -> None:
        app = self.app
        if app.manager.current == "settings" and not app.presenter.is_open:
            if app.manager_flow.registration.waiting_for:
                app.manager_flow.registration.handle_card(event)   # 認証登録 asked for this tap
            return
        if app.presenter.is_open or self.question.is_open or app.manager.current not in ("standby", "punch"):
            return   # reading an error or a question, typing a password or in the manager's screens: not a punch
        if not self.waits.fresh(event.received_monotonic):
            return   # read before this wait began (e.g. on standby, delivered late): never the next punch
        if app.manager.current != "punch":
            kind = auto_kind(self.auto_modes, app.kiosk.clock.read().at.time())
            if kind is None:
                app.presenter.show(KioskError("punch_kind_not_selected", situation=Situation.PUNCH),
                                   auto_dismiss_after=app.display.error_seconds)
                return
            self._wait_for(kind)   # the time of day chose the punch type: just tap
        if not app.punch_screen.accept_credential():
            return   # already punching or confirming: one tap is one punch
        if app.punch_screen.purpose == "timecard":
            self._card_action(lambda: app.kiosk.timecard.open_for_card(event.card_id),
                              lambda e: (e.display_name, fmt.tr("timecard.opened")))
            return
        if app.punch_screen.purpose == "help":
            self._card_action(lambda: app.kiosk.help_registration.register_by_card(event.card_id),
                              lambda r: (r.employee.display_name, fmt.tr("help.done" if r.created else "help.already")))
            return
        kind = app.punch_screen.kind
        app.bridge.submit(lambda: app.kiosk.punch_service.punch_with_card(kind, event.card_id),
                          self._punched, self._punch_failed)

    def handle_read_error(self, error: KioskError) -> None:
        """A tap the reader could not read (e.g. pulled away too soon): ask for another tap."""
        app = self.app
        if app.presenter.is_open or app.manager.current not in ("standby", "punch"):
            return
        if app.manager.current == "punch" and app.punch_screen.phase != "wait":
            return
        error.situation = error.situation or Situation.PUNCH
        app.sound.play("error")
        app.presenter.show(error, auto_dismiss_after=app.display.error_seconds)

    def _punched(self, result: PunchResult) -> None:
        app = self.app
        app.punch_screen.show_result(result)
        app.sound.play("ok")
        offered = self.undo.offer(result)   # the confirmation stays while 取り消し is offered
        self.return_later(max(app.display.confirmation_seconds, offered))
        app.on_punched(result)

    def return_later(self, seconds: float | None = None) -> None:
        """Leave the confirmation by itself after ``seconds`` (default: the confirmation time)."""
        if self._return_event is not None:
            self._return_event.cancel()
        delay = self.app.display.confirmation_seconds if seconds is None else seconds
        self._return_event = Clock.schedule_once(lambda _dt: self.return_home(), delay)

    def _punch_failed(self, error: KioskError) -> None:
        if isinstance(error, SequenceQuestion):   # nothing recorded yet: ask (card and finger)
            self.question.ask(error, self._punched, self._punch_failed)
            return
        self.app.sound.play("error")
        self.return_home()
        self.app.presenter.show(error, auto_dismiss_after=self.app.display.error_seconds)

    # -- タイムカード / ヘルプ登録 ----------------------------------------------------------------------------
    def _card_action(self, job, describe) -> None:
        """A network action for the tapped card. Its answer is shown only if the person is still waiting
        for it (they may have pressed 戻る and someone else may be punching by then)."""
        token = self._action_token

        def done(result) -> None:
            if token == self._action_token:
                self._card_action_done(*describe(result))

        def failed(error: KioskError) -> None:
            if token == self._action_token:
                self._punch_failed(error)
            else:
                self.app.presenter.show(error, auto_dismiss_after=self.app.display.error_seconds)

        self.app.bridge.submit(job, done, failed, slow=True)

    def open_card_action(self, purpose: str) -> None:
        self.kept_kind = None
        self.app.punch_screen.start_card_action(purpose)
        self._reset_wait()
        self.app.punch_screen.show_countdown(self._wait_left)
        self.app.manager.current = "punch"

    def _card_action_done(self, name: str, message: str) -> None:
        self.app.punch_screen.show_card_action_done(name, message)
        if self._return_event is not None:
            self._return_event.cancel()
        self._return_event = Clock.schedule_once(lambda _dt: self.go_standby(), self.app.display.confirmation_seconds)

    # -- パスワード認証 ----------------------------------------------------------------------------
    def open_password(self) -> None:
        """パスワード認証 from a punch type's wait screen, or タイムカード's 従業員を選択 (no card at hand)."""
        if self.app.punch_screen.purpose == "timecard":
            self.app.password_screen.start_timecard()
        else:
            self.app.password_screen.start(self.app.punch_screen.kind)
        self._reset_wait()
        self.app.manager.current = "password"

    def _load_picker(self) -> None:
        """一覧から選ぶ: the employees, read off the Kivy thread, into the list."""
        picker = self.app.password_screen.picker
        self.app.bridge.submit(self.app.kiosk.master.employees, picker.set_employees, self._password_failed)

    def _password_code(self, screen, code: str) -> None:
        app = self.app
        situation = Situation.BROWSER if screen.purpose == "timecard" else Situation.PUNCH
        if screen.choosing and not code:
            self._password_failed(KioskError("employee_not_selected", situation=situation))
        elif screen.purpose == "finger_id":
            app.finger_flow.id_entered(code)   # 2-factor: the ID, then the finger (no password)
        elif screen.purpose == "timecard":
            app.bridge.submit(lambda: app.kiosk.timecard.find(code), screen.ask_password, self._password_failed)
        else:
            app.bridge.submit(lambda: app.kiosk.punch_service.find_for_password(code),
                              screen.ask_password, self._password_failed)

    def _password_entered(self, screen, code: str, password: str) -> None:
        if screen.purpose == "manager":
            self.app.manager_flow.submit_pin(password)
        elif screen.purpose == "timecard":
            self._timecard_with_password(code, password)
        else:
            self._password_punch(code, password)

    def _timecard_with_password(self, code: str, password: str) -> None:
        """The chosen employee's password is right: their timecard opens, and the punch screen says so."""
        app = self.app

        def opened(employee) -> None:
            app.punch_screen.start_card_action("timecard")
            app.punch_screen.accept_credential()
            app.manager.current = "punch"
            self._card_action_done(employee.display_name, fmt.tr("timecard.opened"))

        app.bridge.submit(lambda: app.kiosk.timecard.open_with_password(code, password), opened,
                          self._password_failed, slow=True)

    def _password_punch(self, code: str, password: str) -> None:
        app = self.app
        kind = app.password_screen.kind
        app.bridge.submit(lambda: app.kiosk.punch_service.punch_with_password(kind, code, password),
                          self._password_punched, self._password_failed)

    def cancel_timers(self) -> None:
        self.question.cancel()
        self.undo.withdraw()
        if self._return_event is not None:
            self._return_event.cancel()
            self._return_event = None

    def _password_punched(self, result: PunchResult) -> None:
        screen = self.app.punch_screen
        screen.start_wait(result.punch.kind)
        screen.accept_credential()
        self.app.manager.current = "punch"
        self._punched(result)

    def _password_failed(self, error: KioskError) -> None:
        if isinstance(error, SequenceQuestion):   # nothing recorded yet: ask (パスワード認証)
            self.question.ask(error, self._password_punched, self._password_failed)
            return
        self.app.sound.play("error")
        self.app.password_screen.failed()
        self.app.presenter.show(error, auto_dismiss_after=self.app.display.error_seconds)
