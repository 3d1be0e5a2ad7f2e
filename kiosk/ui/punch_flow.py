"""The punch flow on the Kivy thread: punch type → credential (card or password) → confirmation or error.

Modes: 都度選択 returns to standby after each punch; モード動作 (``punch_mode: keep``) keeps waiting with the
chosen type; automatic modes let a bare tap on standby punch the type the time of day selects.

It owns the standby, punch and password screens (the password keypad also serves the manager's PIN and the
2-factor ID: those flows bind the screen's events for their own purposes). Public API: :meth:`build_screens`,
:meth:`bind_screens`, :meth:`choose_kind`, :meth:`wait_for`, :meth:`restart_countdown`, :meth:`take_credential`,
:meth:`next_person`, :meth:`show_punched`, :meth:`punch_failed`, :meth:`password_failed`, :meth:`return_home`,
:meth:`return_later`, :meth:`go_standby`, :meth:`handle_card`, :meth:`handle_read_error`, :meth:`note_activity`,
:meth:`count_down_wait`, :meth:`apply_display`, :meth:`cancel_timers`, :attr:`punching_from_standby`. Event: ``punched(result)``."""
from __future__ import annotations

from typing import TYPE_CHECKING

from kivy.clock import Clock

from dakoku_core.domain.model import PunchKind, PunchResult
from dakoku_core.domain.modes import auto_kind
from dakoku_core.errors import KioskError, Situation
from kiosk.ports import CardEvent
from kiosk.services.punch import SequenceQuestion
from kiosk.ui import format as fmt
from kiosk.ui.flow_events import FlowEvents
from kiosk.ui.password_punch import PasswordPunch
from kiosk.ui.sequence_question import SequenceAsk
from kiosk.ui.credential_waits import PunchWaits
from kiosk.ui.undo_offer import UndoOffer

if TYPE_CHECKING:
    from kiosk.settings import DisplaySettings
    from kiosk.ui.flow_host import FlowHost


class PunchFlow(FlowEvents):
    EVENTS = ("punched",)   # punched(result): a punch was confirmed on screen
    # A credential taken on standby (the time of day chose the type) is punched while standby stays on screen: the
    # first frame after the tap is the confirmation (or the error), as after a chosen type. Only a punch still
    # unanswered after this long shows the punch screen at work (e.g. the master data still loading at start).
    REVEAL_AFTER = 0.3

    def __init__(self, app: "FlowHost"):
        super().__init__()
        self.app = app
        self.auto_modes = app.display.parsed_auto_modes()
        self.kept_kind: PunchKind | None = None   # モード動作: the type the kiosk keeps waiting with
        self._wait_left = 0
        self._action_token = 0
        self._return_event = None
        self._reveal_event = None   # a punch taken on standby, not answered yet (REVEAL_AFTER)
        self.question = SequenceAsk(app, on_declined=self.return_home)   # 打刻時警告 before an out-of-order punch
        self.undo = UndoOffer(app, on_cancelled=self.return_later)       # 取り消し on the confirmation (issue 12)
        # only a card or finger read during the current wait counts (and during 取り消し's offer: the next person)
        self.waits = PunchWaits(app, offering_undo=lambda: self.undo.offered)
        self.password = PasswordPunch(app, self)   # パスワード認証 and タイムカード on the keypad

    def build_screens(self) -> list:
        """The screens this flow owns (made anew by each build, e.g. after a language switch)."""
        from kiosk.ui.screens.password import PasswordScreen
        from kiosk.ui.screens.punch import PunchScreen
        from kiosk.ui.screens.standby import StandbyScreen

        display = self.app.display
        self.standby = StandbyScreen(name="standby", show_timecard=display.show_timecard,
                                     show_help=display.show_help_registration)
        self.punch_screen = PunchScreen(name="punch")
        self.password_screen = PasswordScreen(name="password")
        return [self.standby, self.punch_screen, self.password_screen]

    def apply_display(self, display: "DisplaySettings") -> None:
        """New device settings (設定 › 表示・機器): the time-of-day modes and the visible punch buttons."""
        self.auto_modes = display.parsed_auto_modes()
        self.standby.add_punch_buttons(display.visible_kinds(), self.choose_kind)

    def bind_screens(self) -> None:
        app = self.app
        self.waits.bind_screens()
        app.standby.add_punch_buttons(app.display.visible_kinds(), self.choose_kind)
        app.standby.bind(on_timecard=lambda *_: self.open_card_action("timecard"),
                         on_help=lambda *_: self.open_card_action("help"))
        app.punch_screen.bind(on_back=lambda *_: self.go_standby(), on_password=lambda *_: self.open_password())
        app.punch_screen.bind(on_undo=lambda *_: self.undo.tap())
        self.password.bind_screen(app.password_screen)

    # -- choosing and waiting ------------------------------------------------------------------
    def choose_kind(self, kind: PunchKind) -> None:
        """A punch-type button: wait for a credential (in モード動作, keep waiting with this type)."""
        if self.punching_from_standby:
            return   # the card just tapped on standby is being punched: its confirmation comes next
        if self.app.display.punch_mode == "keep":
            self.kept_kind = kind
        self.wait_for(kind)

    def wait_for(self, kind: PunchKind, show: bool = True) -> None:
        """The punch screen waits for a credential to punch ``kind`` (``show``: and is shown)."""
        self.undo.withdraw()
        screen = self.app.punch_screen
        screen.start_wait(kind)
        self.restart_countdown()
        if self.kept_kind is None:
            screen.show_countdown(self._wait_left)
        else:
            screen.note = fmt.tr("wait.keep")
        if show:
            self.app.manager.current = "punch"

    def restart_countdown(self) -> None:
        """The person is still there (a key pressed, an ID asked for): the wait starts counting again."""
        self._wait_left = int(self.app.display.wait_seconds)

    def return_home(self) -> None:
        """After a confirmation or an error: the kept punch type's wait screen, else standby."""
        if self.kept_kind is not None:
            self.wait_for(self.kept_kind)
        else:
            self.go_standby()

    def go_standby(self) -> None:
        self.undo.withdraw()
        self.kept_kind = None
        self._action_token += 1
        self._cancel_return()
        self._end_reveal()
        self.app.manager.current = "standby"

    def note_activity(self) -> None:
        """A touch anywhere: the person is still there."""
        self.restart_countdown()

    def count_down_wait(self) -> None:
        """Once a second: a chosen punch type (or a half-typed password) does not wait for ever."""
        app = self.app
        current = app.manager.current
        waiting = (current == "password" and not app.password_screen.busy) or (
            current == "punch" and app.punch_screen.phase == "wait" and self.kept_kind is None)
        if waiting and not app.presenter.is_open:
            self._wait_left -= 1
            app.punch_screen.show_countdown(max(self._wait_left, 0))
            if self._wait_left <= 0:
                self.return_home()

    # -- a card --------------------------------------------------------------------------------
    def handle_card(self, event: CardEvent) -> None:
        """A tap on the punch path (the app routes the settings screen's taps to the manager flow)."""
        app = self.app
        if app.presenter.is_open or self.question.is_open or app.manager.current not in ("standby", "punch"):
            return   # reading an error or a question, typing a password or in the manager's screens: not a punch
        if not self.waits.fresh(event.received_monotonic):
            return   # read before this wait began (e.g. on standby, delivered late): never the next punch
        if not self.take_credential():
            return   # no punch type (the message says so), or already punching: one tap is one punch
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
                          self.show_punched, self.punch_failed)

    def take_credential(self) -> bool:
        """A card or a finger arrived on standby, on a wait or on a confirmation still offering 取り消し: make it
        this punch's credential (:meth:`next_person`). False: not taken (no type, or the screen is already
        punching). Taken on standby, the punch screen is shown with the answer (:attr:`REVEAL_AFTER`)."""
        app = self.app
        if self.punching_from_standby:
            return False   # one tap is one punch: the first one is still being committed
        on_standby = app.manager.current == "standby"
        if not (self.next_person(show=not on_standby) and app.punch_screen.accept_credential()):
            return False
        if app.manager.current != "punch":
            self._reveal_event = Clock.schedule_once(lambda _dt: self._reveal(), self.REVEAL_AFTER)
            app.standby.punching = True   # its top buttons wait for this punch's confirmation
        return True

    punching_from_standby = property(lambda self: self._reveal_event is not None,
                                     doc="A credential taken on standby is being punched, standby still on screen.")

    def _reveal(self) -> None:
        """The punch taken on standby takes a while: the punch screen shows that it is being committed."""
        self._reveal_event = None
        self.app.standby.punching = False
        if self.app.manager.current == "standby" and self.app.punch_screen.phase == "busy":
            self.app.manager.current = "punch"

    def _end_reveal(self) -> bool:
        """The punch taken on standby was answered (or abandoned); True if it was still waiting to be shown."""
        event, self._reveal_event = self._reveal_event, None
        self.app.standby.punching = False
        if event is not None:
            event.cancel()
        return event is not None

    def next_person(self, show: bool = True) -> bool:
        """Someone punches (a card, a finger, パスワード認証) on standby, on a wait or on a confirmation still
        offering 取り消し. The offer ends (the next person is here); without a punch type (standby, or after a
        都度選択 punch) the time of day chooses it, or 「打刻種別を選択してください」 says to (False)."""
        app = self.app
        if self.undo.offered and app.manager.current == "punch" and app.punch_screen.phase == "done":
            self.undo.withdraw()
            self._cancel_return()
            if self.kept_kind is None:
                self.go_standby()   # 都度選択: the confirmed type was that person's, not the next one's
            else:
                self.wait_for(self.kept_kind)
        if app.manager.current != "punch":
            kind = auto_kind(self.auto_modes, app.kiosk.clock.read().at.time())
            if kind is None:
                app.presenter.show(KioskError("punch_kind_not_selected", situation=Situation.PUNCH),
                                   auto_dismiss_after=app.display.error_seconds)
                return False
            self.wait_for(kind, show)   # the time of day chose the punch type: just tap
        return True

    def handle_read_error(self, error: KioskError) -> None:
        """A tap the reader could not read (e.g. pulled away too soon): ask for another tap."""
        app = self.app
        if app.presenter.is_open or app.manager.current not in ("standby", "punch") or self.punching_from_standby:
            return
        if app.manager.current == "punch" and app.punch_screen.phase != "wait":
            return
        error.situation = error.situation or Situation.PUNCH
        app.sound.play("error")
        app.presenter.show(error, auto_dismiss_after=app.display.error_seconds)

    def show_punched(self, result: PunchResult) -> None:
        """The confirmation of a recorded punch (card, finger or password), then back by itself."""
        app = self.app
        app.punch_screen.show_result(result)
        if self._end_reveal():
            app.manager.current = "punch"   # taken on standby: this is the first frame after the tap
        app.sound.play("ok")
        offered = self.undo.offer(result)   # the confirmation stays while 取り消し is offered
        self.waits.refresh()                # ...and takes the next person's card or finger meanwhile
        self.return_later(max(app.display.confirmation_seconds, offered))
        self.emit("punched", result)

    def _cancel_return(self) -> None:
        if self._return_event is not None:
            self._return_event.cancel()
            self._return_event = None

    def return_later(self, seconds: float | None = None) -> None:
        """Leave the confirmation by itself after ``seconds`` (default: the confirmation time)."""
        self._cancel_return()
        delay = self.app.display.confirmation_seconds if seconds is None else seconds
        self._return_event = Clock.schedule_once(lambda _dt: self.return_home(), delay)

    def punch_failed(self, error: KioskError) -> None:
        """A card or finger punch was refused (or needs the 打刻時警告 question first)."""
        if isinstance(error, SequenceQuestion):   # nothing recorded yet: ask (card and finger)
            self.question.ask(error, self.show_punched, self.punch_failed)
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
                self.show_card_action_done(*describe(result))

        def failed(error: KioskError) -> None:
            if token == self._action_token:
                self.punch_failed(error)
            else:
                self.app.presenter.show(error, auto_dismiss_after=self.app.display.error_seconds)

        self.app.bridge.submit(job, done, failed, slow=True)

    def open_card_action(self, purpose: str) -> None:
        if self.punching_from_standby:
            return
        self.kept_kind = None
        self.app.punch_screen.start_card_action(purpose)
        self.restart_countdown()
        self.app.punch_screen.show_countdown(self._wait_left)
        self.app.manager.current = "punch"

    def show_card_action_done(self, name: str, message: str) -> None:
        """タイムカード / ヘルプ登録 done for ``name``: the punch screen says ``message``, then standby."""
        self.app.punch_screen.show_card_action_done(name, message)
        self._cancel_return()
        self._return_event = Clock.schedule_once(lambda _dt: self.go_standby(), self.app.display.confirmation_seconds)

    # -- パスワード認証 (kiosk/ui/password_punch.py) ----------------------------------------------------------
    def open_password(self) -> None:
        """パスワード認証 from a punch type's wait screen or from a confirmation still offering 取り消し (the next
        person, as with a card), or タイムカード's 従業員を選択 (no card at hand)."""
        if self.app.punch_screen.phase == "done" and not self.next_person():
            return
        self.password.open()

    def password_failed(self, error: KioskError) -> None:
        """A step on the keypad was refused (or a 2-factor ID was not found): the keypad says so."""
        self.password.failed(error)

    def cancel_timers(self) -> None:
        self.question.cancel()
        self.undo.withdraw()
        self._cancel_return()
        self._end_reveal()
