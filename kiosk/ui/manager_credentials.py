"""設定 › 認証情報: choose an employee (kana initial, then name: :class:`EmployeePicker`), see their registered
cards (masked, with the date and the recorder that registered them) and fingers, and delete any of them after a
confirmation, without the card itself. The work runs on the bridge's slow worker
(:class:`kiosk.services.credentials.CredentialsService`); offline the catalogue error is shown and nothing changes."""
from __future__ import annotations

from typing import TYPE_CHECKING, Callable

from kivy.metrics import dp
from kivy.properties import BooleanProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout

from dakoku_core.domain.model import Employee
from dakoku_core.errors import KioskError
from dakoku_core.i18n import tr
from kiosk.ports.recorder_api import EmployeeCredentials, EnrolledFinger, RegisteredCard
from kiosk.ui.employee_picker import EmployeePicker
from kiosk.ui.finger_registration import finger_label
from kiosk.ui.manager_pages import ensure_kv

if TYPE_CHECKING:
    from kiosk.ui.flow_host import FlowHost

SECTION = "credentials"


class CredentialItem(BoxLayout):
    title = StringProperty("")
    detail = StringProperty("")
    deletable = BooleanProperty(True)

    def __init__(self, **kwargs):
        self.register_event_type("on_delete")
        super().__init__(**kwargs)

    def on_delete(self) -> None: ...


class ConfirmDelete(BoxLayout):
    message = StringProperty("")

    def __init__(self, **kwargs):
        self.register_event_type("on_answer")
        super().__init__(**kwargs)

    def on_answer(self, yes: bool) -> None: ...


class CredentialsPage:
    def __init__(self, app: "FlowHost", audit: Callable[..., None]):
        self.app = app
        self.audit = audit   # the manager flow's audit log: audit(action, outcome, detail="")
        self.employee: Employee | None = None
        self.listed: EmployeeCredentials | None = None
        self.picker: EmployeePicker | None = None

    @property
    def screen(self):
        return self.app.settings_screen

    @property
    def service(self):
        return self.app.kiosk.credentials

    def show(self) -> None:
        """The picker of this recorder's employees; offline: the catalogue error at once."""
        ensure_kv()
        self.employee, self.listed = None, None
        self.screen.show_section(SECTION, [])
        service = self.service
        self._run(lambda: (service.available(), service.employees())[1], self._show_picker)

    def _show_picker(self, employees: list[Employee]) -> None:
        picker = self.picker = EmployeePicker(size_hint_y=None)
        view = self.screen.ids.rows.parent            # the rows' ScrollView: the picker scrolls its own names
        picker.height = max(dp(420), view.height)
        picker.set_employees(employees)
        picker.bind(chosen=lambda _p, employee: employee is not None and self.choose(employee),
                    notice=_own_hint)   # choosing a name opens the list at once: no 「次へ」 here
        self.screen.show_form(picker)
        self.screen.notice = tr("credentials.choose_employee")

    def choose(self, employee: Employee, notice: str = "") -> None:
        self.employee = employee
        self.screen.set_busy(tr("settings.running"))
        self._run(lambda: self.service.list_for(employee), lambda listed: self._show_list(listed, notice))

    def _show_list(self, listed: EmployeeCredentials, notice: str) -> None:
        self.listed = listed
        employee = listed.employee
        self.screen.show_section(SECTION, [(tr("credentials.back"), self.show)])
        self.screen.notice = notice or tr("credentials.title", name=employee.display_name, code=employee.code)
        rows = self.screen.ids.rows
        rows.clear_widgets()
        rows.add_widget(_heading(tr("credentials.cards")))
        for card in listed.cards:
            rows.add_widget(self._item(tr("credentials.card", mask=card.masked), self._card_detail(card),
                                       lambda c=card: self.ask(self._confirm_card(c), lambda: self._delete_card(c))))
        if not listed.cards:
            rows.add_widget(CredentialItem(title=tr("credentials.none"), deletable=False))
        rows.add_widget(_heading(tr("credentials.fingers")))
        for finger in listed.fingers:
            rows.add_widget(self._item(finger_label(finger.finger), self._when(finger.registered_at),
                                       lambda f=finger: self.ask(self._confirm_finger(f),
                                                                 lambda: self._delete_finger(f))))
        if not listed.fingers:
            rows.add_widget(CredentialItem(title=tr("credentials.none"), deletable=False))

    def _item(self, title: str, detail: str, on_delete: Callable[[], None]) -> CredentialItem:
        item = CredentialItem(title=title, detail=detail)
        item.bind(on_delete=lambda _i: on_delete())
        return item

    # -- deleting -------------------------------------------------------------------------------
    def ask(self, message: str, then: Callable[[], None]) -> None:
        """The confirmation step: 削除する runs ``then``, やめる goes back to the list."""
        confirm = ConfirmDelete(message=message)
        confirm.bind(on_answer=lambda _c, yes: then() if yes else self._show_list(self.listed, ""))
        self.screen.show_form(confirm)

    def _confirm_card(self, card: RegisteredCard) -> str:
        return tr("credentials.confirm_card", name=self.employee.display_name, mask=card.masked)

    def _confirm_finger(self, finger: EnrolledFinger) -> str:
        return tr("credentials.confirm_finger", name=self.employee.display_name, finger=finger_label(finger.finger))

    def _delete_card(self, card: RegisteredCard) -> None:
        employee = self.employee
        self._deleting("credentials.delete_card", lambda: self.service.delete_card(employee, card), card.masked)

    def _delete_finger(self, finger: EnrolledFinger) -> None:
        employee = self.employee
        self._deleting("credentials.delete_finger", lambda: self.service.delete_finger(employee, finger.finger),
                       str(finger.finger))

    def _deleting(self, action: str, job: Callable[[], bool], what: str) -> None:
        employee = self.employee
        self.screen.set_busy(tr("settings.running"))
        self.audit(action, "run", f"{employee.code} {what}")

        def done(deleted: bool) -> None:
            self.audit(action, "done", f"{employee.code} {what}")
            self.choose(employee, tr("credentials.deleted" if deleted else "credentials.already_gone"))

        self._run(job, done)

    # -- helpers --------------------------------------------------------------------------------
    def _card_detail(self, card: RegisteredCard) -> str:
        recorder = " ".join(p for p in (card.recorder_code, card.recorder_name) if p) or tr("credentials.by_admin")
        return tr("credentials.registered", date=self._when(card.registered_at), recorder=recorder)

    def _when(self, at) -> str:
        if at is None:
            return "—"
        return f"{at.astimezone(self.app.kiosk.settings.tz):%Y/%m/%d %H:%M}"

    def _run(self, job, on_done) -> None:
        def done(result) -> None:
            if self.screen.section == SECTION:      # the manager may have gone to another section meanwhile
                self.screen.set_busy("")
                on_done(result)
        self.app.bridge.submit(job, done, self._failed, slow=True)

    def _failed(self, error: KioskError) -> None:
        self.screen.set_busy("")
        self.audit(f"settings.{SECTION}", "failed", error.key)
        self.app.presenter.show(error)


def _own_hint(picker: EmployeePicker, text: str) -> None:
    if text == tr("picker.choose_name"):
        picker.notice = tr("credentials.choose_name")


def _heading(text: str):
    from kivy.factory import Factory

    return Factory.PageHeading(text=text)
