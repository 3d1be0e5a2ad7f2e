"""設定 → 認証登録 → employee → 指紋を登録 / 指紋を削除, on the Kivy thread (part of :class:`RegistrationFlow`).

Enrolment: progress per capture, then 登録しました or the error; the service registers the finger with the server
(online only: offline it says 「この機能はオンライン時のみ利用できます」 before asking for a finger). Deletion: choose
the finger when the employee has several, then confirm (削除する / やめる: a slip must not delete a finger), then
the server and this kiosk drop it. Both are audit-logged. All work runs on the bridge's workers."""
from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Callable

from dakoku_core.domain.model import Employee
from dakoku_core.errors import KioskError
from dakoku_core.i18n import tr

if TYPE_CHECKING:
    from kiosk.ui.registration_flow import RegistrationFlow

DANGER_COLOUR = (0.75, 0.18, 0.12, 1)


def finger_label(finger: int) -> str:
    return tr("registration.finger_label", number=finger + 1)


class FingerRegistration:
    def __init__(self, flow: "RegistrationFlow"):
        self.flow = flow
        self._enrol_cancel: threading.Event | None = None

    @property
    def app(self):
        return self.flow.app

    @property
    def screen(self):
        return self.flow.screen

    @property
    def service(self):
        return self.app.kiosk.fingerprint

    def fingers_then(self, employee: Employee, then: Callable[[list[int]], None]) -> None:
        """The employee's enrolled fingers (a ledger read, off the Kivy thread), then ``then(fingers)``."""
        service = self.service
        self.app.bridge.submit(lambda: sorted(service.store.fingers_of(employee.key)), then, self.flow.show_failure)

    # -- enrolment ---------------------------------------------------------------------------------
    def start_enrol(self, employee: Employee) -> None:
        self.cancel()
        service = self.service
        cancel = self._enrol_cancel = threading.Event()
        # While the captures run, one action: 中止 (the seed's cause A: the user stopped the registration).
        self.screen.show_section("registration", [(tr("registration.stop_enrol"), lambda: self.stop(cancel))])
        self.screen.notice = tr("settings.running")
        self.screen.set_rows(self.flow.employee_rows(employee))     # whose finger is being taken
        progress = self.app.bridge.callback(lambda p: self._progress(p, cancel))
        self.app.bridge.submit(lambda: service.enrol(employee, on_progress=progress, cancel=cancel),
                               lambda r: self._enrolled(r, cancel),
                               lambda e: self._enrol_failed(e, cancel, employee), slow=True)

    def stop(self, cancel: threading.Event) -> None:
        """中止 pressed: the capture stops and 「登録用認証データの検出が中止されました」 (A) says so."""
        if self._enrol_cancel is cancel:
            cancel.set()

    def _progress(self, progress, cancel: threading.Event) -> None:
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
        self.screen.notice = text

    def _enrolled(self, result, cancel: threading.Event) -> None:
        if self._enrol_cancel is cancel:
            self._enrol_cancel = None
        self.flow.audit("registration.fingerprint", "done", f"{result.employee.code} #{result.finger}")
        name = result.employee.display_name
        self.flow.choose(result.employee, notice=tr("registration.finger_registered", name=name),
                         note=tr("registration.finger_sync_note"))

    def _enrol_failed(self, error: KioskError, cancel: threading.Event, employee: Employee) -> None:
        if self._enrol_cancel is not cancel:
            return   # the manager left the section: nothing to report
        self._enrol_cancel = None
        if cancel.is_set() and error.key != "enrollment_cancelled":
            error = KioskError("enrollment_cancelled", situation=error.situation, cause_letter="A",
                               detail=f"stopped by the manager ({error.key})")
        self.flow.choose(employee)     # back to the employee's actions, under the error
        self.flow.show_failure(error)

    def cancel(self) -> None:
        """Leaving the section (or the settings) stops a running enrolment."""
        if self._enrol_cancel is not None:
            self._enrol_cancel.set()
            self._enrol_cancel = None

    # -- deletion ----------------------------------------------------------------------------------
    def start_delete(self, employee: Employee) -> None:
        """One finger: straight to the confirmation; several: choose which first."""
        self.fingers_then(employee, lambda fingers: self._choose_finger(employee, fingers))

    def _choose_finger(self, employee: Employee, fingers: list[int]) -> None:
        if len(fingers) == 1:
            self.confirm_delete(employee, fingers[0])
            return
        self.screen.show_section("registration", [(tr("registration.cancel"), lambda: self.flow.choose(employee))])
        self.screen.notice = tr("registration.choose_finger") if fingers else tr("registration.no_fingers_to_delete")
        self.screen.set_buttons([(finger_label(f), lambda f=f: self.confirm_delete(employee, f)) for f in fingers])

    def confirm_delete(self, employee: Employee, finger: int) -> None:
        self.screen.show_section("registration", [
            (tr("registration.confirm_delete"), lambda: self._delete(employee, finger)),
            (tr("registration.cancel"), lambda: self.flow.choose(employee))])
        self.screen.ids.actions.children[-1].face_color = DANGER_COLOUR    # the first button: 削除する
        self.screen.notice = tr("registration.confirm_delete_finger", name=employee.display_name,
                                finger=finger_label(finger))
        self.screen.set_rows(self.flow.employee_rows(employee)
                             + [(tr("registration.finger_to_delete"), finger_label(finger), ""),
                                ("", tr("registration.delete_finger_note"), "")])

    def _delete(self, employee: Employee, finger: int) -> None:
        service = self.service
        self.flow.show_busy()
        self.app.bridge.submit(lambda: service.delete_finger(employee, finger),
                               lambda deleted: self._deleted(employee, finger, deleted), self.flow.show_failure,
                               slow=True)

    def _deleted(self, employee: Employee, finger: int, deleted: bool) -> None:
        self.flow.audit("registration.fingerprint_delete", "done" if deleted else "none",
                        f"{employee.code} #{finger}")
        key = "registration.finger_deleted" if deleted else "registration.finger_already_gone"
        self.flow.choose(employee, notice=tr(key, name=employee.display_name, finger=finger_label(finger)))
