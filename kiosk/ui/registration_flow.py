"""設定 → 認証登録: find the employee by kana initial, then register (two reads) or delete an IC card, or
register a fingerprint (several captures with progress). Card taps reach this flow only while it asks for one;
the work runs on the bridge's workers. With a fingerprint sensor the section opens offline too (fingerprints
are enrolled on this kiosk only); the card actions still need the server and say so when chosen."""
from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from kiosk.domain.kana import ROWS
from kiosk.domain.model import Employee
from kiosk.errors import KioskError
from kiosk.i18n import tr
from kiosk.ports import CardEvent

if TYPE_CHECKING:
    from kiosk.ui.app import KioskApp


class RegistrationFlow:
    def __init__(self, app: "KioskApp"):
        self.app = app
        self.employee: Employee | None = None
        self.waiting_for: str = ""          # "", "first", "second" or "delete"
        self._first_read = ""
        self._enrol_cancel: threading.Event | None = None

    @property
    def screen(self):
        return self.app.settings_screen

    def show(self) -> None:
        """The kana-initial row buttons; choosing one lists its employees. Offline: refused at once."""
        self.employee, self.waiting_for = None, ""
        self.cancel()
        self.screen.show_section("registration", [])
        if self.app.kiosk.fingerprint is not None:
            self._show_rows()   # fingerprints enrol locally: no server needed to open the section
            return
        self.app.bridge.submit(self.app.kiosk.registration.available, lambda _ok: self._show_rows(), self._failed,
                               slow=True)

    def _show_rows(self) -> None:
        self.screen.show_section("registration", [(row, lambda r=row: self.list_row(r)) for row in ROWS])
        self.screen.notice = tr("registration.choose_row")

    def list_row(self, row: str) -> None:
        service = self.app.kiosk.registration
        self.app.bridge.submit(lambda: service.employees_in_row(row), self._show_employees, self._failed)

    def _show_employees(self, employees: list[Employee]) -> None:
        self.screen.notice = "" if employees else tr("registration.none_in_row")
        self.screen.set_buttons([(f"{e.code}   {e.display_name}   ({e.kana})", lambda e=e: self.choose(e))
                                 for e in employees])

    def choose(self, employee: Employee) -> None:
        self.employee, self.waiting_for = employee, ""
        actions = [(tr("registration.register"), self.start_register), (tr("registration.delete"), self.start_delete)]
        if self.app.kiosk.fingerprint is not None:
            actions.append((tr("registration.register_finger"), self.start_finger))
        self.screen.show_section("registration", actions + [(tr("registration.back"), self.show)])
        self.screen.set_rows([(tr("registration.employee"), f"{employee.code}  {employee.display_name}", ""),
                              (tr("registration.department"), self._department_name(employee), "")])

    def _department_name(self, employee: Employee) -> str:
        names = {d.code: d.name for d in self.app.kiosk.master.departments()}   # in memory (snapshot)
        return f"{names.get(employee.department_code, '')} ({employee.department_code})"

    def start_register(self) -> None:
        self._when_online(lambda: self._ask_tap("first", "registration.first_tap"))

    def start_delete(self) -> None:
        self._when_online(lambda: self._ask_tap("delete", "registration.delete_tap"))

    def _ask_tap(self, step: str, notice: str) -> None:
        self.waiting_for, self._first_read = step, ""
        self.screen.notice = tr(notice)

    def _when_online(self, then) -> None:
        """Card actions need the server; the section was checked on opening unless a sensor let it open offline."""
        if self.app.kiosk.fingerprint is None:
            then()
            return
        self.app.bridge.submit(self.app.kiosk.registration.available, lambda _ok: then(), self._failed, slow=True)

    # -- fingerprint -------------------------------------------------------------------------------
    def start_finger(self) -> None:
        """Enrol one of the chosen employee's fingers: progress per capture, then 登録しました or the error."""
        self.cancel()
        employee, service = self.employee, self.app.kiosk.fingerprint
        cancel = self._enrol_cancel = threading.Event()
        self._busy()
        progress = self.app.bridge.callback(lambda p: self._finger_progress(p, cancel))
        self.app.bridge.submit(lambda: service.enrol(employee, on_progress=progress, cancel=cancel),
                               lambda r: self._finger_done(r, cancel), lambda e: self._finger_failed(e, cancel),
                               slow=True)

    def _finger_progress(self, progress, cancel: threading.Event) -> None:
        if cancel.is_set():
            return
        values = {"step": progress.step, "total": progress.total}
        feedback = progress.feedback
        if progress.phase == "place":
            text = tr("registration.finger_place", **values)
        elif feedback.usable:
            text = tr("registration.finger_ok", minutiae=feedback.minutiae, quality=int(feedback.quality), **values)
        else:
            text = tr("registration.finger_retry", reason=tr(f"finger.reason.{feedback.reason}"), **values)
        if progress.phase == "captured" and progress.step == progress.total and feedback.usable:
            text += "\n" + tr("registration.finger_checking")
        self.screen.set_busy(text)

    def _finger_done(self, result, cancel: threading.Event) -> None:
        if self._enrol_cancel is cancel:
            self._enrol_cancel = None
        self.app.manager_flow.audit("registration.fingerprint", "done", f"{result.employee.code} #{result.finger}")
        self.screen.set_busy("")
        self.screen.notice = (tr("registration.finger_registered", name=result.employee.display_name) + "\n"
                              + tr("registration.finger_offline_note"))

    def _finger_failed(self, error: KioskError, cancel: threading.Event) -> None:
        if self._enrol_cancel is cancel:
            self._enrol_cancel = None
        if cancel.is_set():
            return   # the manager left the section: nothing to report
        self._failed(error)

    def cancel(self) -> None:
        """Leaving the section (or the settings) stops a running enrolment."""
        if self._enrol_cancel is not None:
            self._enrol_cancel.set()
            self._enrol_cancel = None

    def handle_card(self, event: CardEvent) -> None:
        """A tap while on the settings screen: used only when this flow asked for one."""
        step, self.waiting_for = self.waiting_for, ""
        service = self.app.kiosk.registration
        if step == "first":
            self._first_read, self.waiting_for = event.card_id, "second"
            self.screen.notice = tr("registration.second_tap")
        elif step == "second":
            employee, first = self.employee, self._first_read
            self._busy()
            self.app.bridge.submit(lambda: service.register(employee, first, event.card_id),
                                   lambda _r: self._done("registration.register", tr(
                                       "registration.registered", name=employee.display_name)), self._failed,
                                   slow=True)
        elif step == "delete":
            self._busy()
            employee = self.employee
            self.app.bridge.submit(lambda: service.delete(employee, event.card_id),
                                   lambda _r: self._done("registration.delete", tr("registration.deleted")),
                                   self._failed, slow=True)

    def _busy(self) -> None:
        self.screen.set_busy(tr("settings.running"))

    def _done(self, action: str, notice: str) -> None:
        self.app.manager_flow.audit(action, "done", self.employee.code if self.employee else "")
        self.screen.set_busy("")
        self.screen.notice = notice

    def _failed(self, error: KioskError) -> None:
        self.app.manager_flow.audit("registration", "failed", error.key)
        self.screen.set_busy("")
        self.screen.notice = ""
        self.app.sound.play("error")
        self.app.presenter.show(error)
