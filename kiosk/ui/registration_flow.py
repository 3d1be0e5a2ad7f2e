"""設定 → 認証登録: find the employee by kana initial or by typing the 従業員コード, then register (two reads) or
delete an IC card, or register or delete a fingerprint (:mod:`kiosk.ui.finger_registration`). Card taps reach this
flow only while it asks for one; the work runs on the bridge's workers. Online only: the section says 「この機能はオンライン時のみ
利用できます」 when opened offline (cards and fingerprints are registered with the server).

Public API (for the manager flow, and for its part :class:`FingerRegistration`): :meth:`show`, :meth:`choose`,
:meth:`handle_card`, :meth:`stop_waiting`, :meth:`cancel`, :attr:`waiting_for`, :meth:`employee_rows`,
:meth:`show_busy`, :meth:`show_failure`, :meth:`audit` (the manager flow's audit log, given at construction)."""
from __future__ import annotations

from typing import TYPE_CHECKING, Callable

from dakoku_core.domain.kana import ROWS
from dakoku_core.domain.model import Employee
from dakoku_core.errors import KioskError
from dakoku_core.i18n import tr
from kiosk.ports import CardEvent
from kiosk.services.credential_window import WaitingWindow
from kiosk.ui.finger_registration import FingerRegistration, finger_label
from kiosk.ui.keypad import CodeEntry

if TYPE_CHECKING:
    from kiosk.ui.flow_host import FlowHost


class RegistrationFlow:
    def __init__(self, app: "FlowHost", audit: Callable[..., None]):
        self.app = app
        self.audit = audit                  # audit(action, outcome, detail=""): the manager flow's log
        self.employee: Employee | None = None
        self.waiting_for: str = ""          # "", "first", "second" or "delete"
        self.tap_window = WaitingWindow("registration")   # each read asked for takes only a tap made after
        self._first_read = ""
        self.fingers = FingerRegistration(self)

    @property
    def screen(self):
        return self.app.settings_screen

    def show(self) -> None:
        """The kana-initial row buttons; choosing one lists its employees. Offline: refused at once."""
        self.employee, self.waiting_for = None, ""
        self.cancel()
        self.screen.show_section("registration", [])
        self.app.bridge.submit(self.app.kiosk.registration.available, lambda _ok: self._show_rows(),
                               self.show_failure, slow=True)

    def _show_rows(self) -> None:
        """The kana-initial buttons, and below them the 従業員コード entry (its own keypad)."""
        self.screen.show_section("registration", [(row, lambda r=row: self.list_row(r)) for row in ROWS])
        self.screen.notice = tr("registration.choose_row")
        entry = CodeEntry()
        entry.bind(on_search=lambda _e, text: self.find_by_code(text))
        self.screen.show_form(entry)

    def find_by_code(self, text: str) -> None:
        """検索: empty → 「従業員コードが入力されていません」, unknown → 「該当する従業員が見つかりません」."""
        service = self.app.kiosk.registration
        self.app.bridge.submit(lambda: service.employee_by_code(text), self.choose, self.show_failure)

    def list_row(self, row: str) -> None:
        service = self.app.kiosk.registration
        self.app.bridge.submit(lambda: service.employees_in_row(row), self._show_employees, self.show_failure)

    def _show_employees(self, employees: list[Employee]) -> None:
        self.screen.notice = "" if employees else tr("registration.none_in_row")
        self.screen.set_buttons([(f"{e.code}   {e.display_name}   ({e.kana})", lambda e=e: self.choose(e))
                                 for e in employees])

    def choose(self, employee: Employee, notice: str = "", note: str = "") -> None:
        """The employee's actions; 指紋を削除 only when they have a finger enrolled (read off the Kivy thread).
        ``notice`` and ``note`` (an extra row) report what was just done."""
        self.employee, self.waiting_for = employee, ""
        if self.app.kiosk.fingerprint is None:
            self._show_actions(employee, [], notice, note)
        else:
            self.fingers.fingers_then(employee, lambda fingers: self._show_actions(employee, fingers, notice, note))

    def _show_actions(self, employee: Employee, fingers: list[int], notice: str, note: str) -> None:
        if self.employee is not employee:
            return   # the manager chose someone else meanwhile
        actions = [(tr("registration.register"), self.start_register), (tr("registration.delete"), self.start_delete)]
        if self.app.kiosk.fingerprint is not None:
            actions.append((tr("registration.register_finger"), lambda: self.fingers.start_enrol(employee)))
            if fingers:
                actions.append((tr("registration.delete_finger"), lambda: self.fingers.start_delete(employee)))
        self.screen.show_section("registration", actions + [(tr("registration.back"), self.show)])
        self.screen.notice = notice
        self.screen.set_rows(self.employee_rows(employee, fingers if self.app.kiosk.fingerprint else None)
                             + [(tr("registration.lost_card"), tr("registration.lost_card_hint"), "")]
                             + ([("", note, "")] if note else []))

    def employee_rows(self, employee: Employee, fingers: list[int] | None = None) -> list[tuple[str, str, str]]:
        rows = [(tr("registration.employee"), f"{employee.code}  {employee.display_name}", ""),
                (tr("registration.department"), self._department_name(employee), "")]
        if fingers is not None:
            rows.append((tr("registration.fingers"), "、".join(finger_label(f) for f in fingers)
                         or tr("registration.no_fingers"), ""))
        return rows

    def _department_name(self, employee: Employee) -> str:
        names = {d.code: d.name for d in self.app.kiosk.master.departments()}   # in memory (snapshot)
        return f"{names.get(employee.department_code, '')} ({employee.department_code})"

    def start_register(self) -> None:
        self._ask_tap("first", "registration.first_tap")

    def start_delete(self) -> None:
        self._ask_tap("delete", "registration.delete_tap")

    def _ask_tap(self, step: str, notice: str) -> None:
        self.waiting_for, self._first_read = step, ""
        self.tap_window.open()
        self.screen.notice = tr(notice)

    def stop_waiting(self) -> None:
        """Leaving the section: a card read it asked for is no longer wanted."""
        self.waiting_for = ""

    def cancel(self) -> None:
        """Leaving the section (or the settings) stops a running enrolment."""
        self.fingers.cancel()

    def handle_card(self, event: CardEvent) -> None:
        """A tap while on the settings screen: used only when this flow asked for one, and made after."""
        if not self.waiting_for or not self.tap_window.accepts(event.received_monotonic):
            return
        step, self.waiting_for = self.waiting_for, ""
        service = self.app.kiosk.registration
        if step == "first":
            self._first_read, self.waiting_for = event.card_id, "second"
            self.tap_window.open(since=event.received_monotonic)   # the second read: any tap after the first
            self.screen.notice = tr("registration.second_tap")
        elif step == "second":
            employee, first = self.employee, self._first_read
            self.show_busy()
            self.app.bridge.submit(lambda: service.register(employee, first, event.card_id),
                                   lambda _r: self._done("registration.register", tr(
                                       "registration.registered", name=employee.display_name)), self.show_failure,
                                   slow=True)
        elif step == "delete":
            self.show_busy()
            employee = self.employee
            self.app.bridge.submit(lambda: service.delete(employee, event.card_id),
                                   lambda _r: self._done("registration.delete", tr("registration.deleted")),
                                   self.show_failure, slow=True)

    def show_busy(self) -> None:
        self.screen.set_busy(tr("settings.running"))

    def _done(self, action: str, notice: str) -> None:
        self.audit(action, "done", self.employee.code if self.employee else "")
        self.screen.set_busy("")
        self.screen.notice = notice

    def show_failure(self, error: KioskError) -> None:
        self.audit("registration", "failed", error.key)
        self.screen.set_busy("")
        self.screen.notice = ""
        self.app.sound.play("error")
        self.app.presenter.show(error)
