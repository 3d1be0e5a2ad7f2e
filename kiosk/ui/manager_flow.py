"""The manager's side of the kiosk: 設定 → manager password → settings sections. Every step that touches
disk, devices or the network runs on the bridge's worker; every action is audit-logged by the gate.

It owns the settings screen and takes the manager's PIN from the password keypad itself (purpose ``manager``).
Public API: :meth:`build_screens`, :meth:`bind_screens`, :meth:`open_login`, :meth:`submit_pin`, :meth:`show`,
:meth:`close`, :meth:`handle_card` (taps while 設定 is open), :meth:`note_activity`, :meth:`count_down_idle`,
:meth:`audit`, :meth:`stop`, :attr:`pages`, :attr:`registration`. Event: ``closed()`` (設定 was left)."""
from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from kiosk import __version__
from dakoku_core.errors import KioskError, catalogue
from dakoku_core.i18n import tr
from kiosk.ports import CardEvent
from kiosk.services.log_export import Medium, for_kiosk, human_size
from kiosk.ui import format as fmt
from kiosk.ui.language import other_language, switch_language
from kiosk.ui.manager_credentials import CredentialsPage
from kiosk.ui.manager_display import DisplayPage
from kiosk.ui.manager_presence import PresencePage
from kiosk.ui.registration_flow import RegistrationFlow
from kiosk.ui.connection_form import ConnectionForm
from kiosk.ui.flow_events import FlowEvents

if TYPE_CHECKING:
    from kiosk.ui.flow_host import FlowHost

log = logging.getLogger(__name__)
SETTINGS_IDLE = 120   # seconds: a manager who walks away does not leave the kiosk unable to punch
SECTIONS = ["registration", "credentials", "presence", "display", "connection", "data_update", "diagnosis", "info"]


class ManagerFlow(FlowEvents):
    EVENTS = ("closed",)   # closed(): 設定 was left (the app sends the kiosk back to standby)

    def __init__(self, app: "FlowHost"):
        super().__init__()
        self.app = app
        self._idle = 0
        self.registration = RegistrationFlow(app, self.audit)
        self.pages = {"credentials": CredentialsPage(app, self.audit), "presence": PresencePage(app),
                      "display": DisplayPage(app, self.audit)}   # each opens by show()

    def build_screens(self) -> list:
        from kiosk.ui.screens.settings import SettingsScreen

        self.settings_screen = SettingsScreen(name="settings")
        return [self.settings_screen]

    def bind_screens(self) -> None:
        app = self.app
        app.standby.bind(on_settings=lambda *_: self.open_login())
        app.password_screen.bind(on_password=self._password_entered)   # the PIN: this flow's, not the punch's
        app.settings_screen.set_sections(SECTIONS)
        app.settings_screen.bind(on_close=lambda *_: self.close(), on_choose_section=lambda _s, name: self.show(name))
        app.settings_screen.bind(on_quit=lambda *_: self.ask_quit())

    def audit(self, action: str, outcome: str, detail: str = "") -> None:
        """Write an audit entry off the Kivy thread (it is a durable SQLite write)."""
        manager = self.app.kiosk.manager
        self.app.bridge.submit(lambda: manager.record(action, outcome, detail), lambda _r: None,
                               lambda err: log.error("audit log write failed: %s", err))

    # -- the gate ------------------------------------------------------------------------------
    def open_login(self) -> None:
        self.app.password_screen.start_manager()
        self.app.manager.current = "password"

    def _password_entered(self, screen, _code: str, password: str) -> None:
        if screen.purpose == "manager":
            self.submit_pin(password)

    def submit_pin(self, pin: str) -> None:
        app = self.app
        app.bridge.submit(lambda: app.kiosk.manager.authenticate(pin, "settings.open"),
                          lambda _ok: self._granted(), self._denied)

    def _granted(self) -> None:
        app = self.app
        if app.manager.current != "password" or app.password_screen.purpose != "manager":
            return   # the manager gave up before the check finished: never open 設定 for whoever is there
        self.note_activity()
        self.app.manager.current = "settings"
        self.show("connection" if not self.app.kiosk.sync.configured else "info")

    def _denied(self, error: KioskError) -> None:
        self.app.password_screen.failed()
        self.app.presenter.show(error, auto_dismiss_after=self.app.display.error_seconds)

    def close(self) -> None:
        self.registration.cancel()
        self.audit("settings.close", "done")
        self.emit("closed")

    def stop(self) -> None:
        """The app stops: a running enrolment stops too."""
        self.registration.cancel()

    def note_activity(self) -> None:
        """A touch anywhere: the manager is still there."""
        self._idle = 0

    def count_down_idle(self) -> None:
        """Once a second: settings left open return to standby after SETTINGS_IDLE seconds without a touch."""
        if self.app.manager.current != "settings":
            self._idle = 0
            return
        self._idle += 1
        if self._idle >= SETTINGS_IDLE and not self.app.presenter.is_open:
            self.close()

    def handle_card(self, event: CardEvent) -> None:
        """A tap while 設定 is open: only 認証登録's read, when it asked for one (never a punch)."""
        if not self.app.presenter.is_open:
            self.registration.handle_card(event)

    # -- 終了: the only way out of the kiosk (Escape, Alt+F4 and the window's × are ignored) ------------------
    def ask_quit(self) -> None:
        self.registration.stop_waiting()
        self.registration.cancel()
        self.app.settings_screen.show_section("quit", [(tr("settings.quit_confirm"), self.quit)])
        self.app.settings_screen.notice = tr("settings.quit_question")

    def quit(self) -> None:
        self.audit("settings.quit", "done")   # written before the app stops: the bridge drains its queue
        self.app.stop()

    # -- sections ----------------------------------------------------------------------------
    def show(self, name: str) -> None:
        screen = self.app.settings_screen
        self.registration.stop_waiting()     # leaving the section cancels a pending card read...
        self.registration.cancel()           # ...and a fingerprint enrolment
        if name == "registration":
            self.registration.show()
        elif name in self.pages:
            self.pages[name].show()
        elif name == "info":   # 日本語 / English: a device setting (kiosk/ui/language.py)
            screen.show_section(name, [(tr("language.switch_to"), lambda: switch_language(self.app, other_language())),
                                       (tr("log_export.button"), self.export_logs)])
            self.app.bridge.submit(self._info_rows, screen.set_rows, self._failed)
        elif name == "connection":
            self._form = ConnectionForm()
            screen.show_section(name, [(tr("connection.save"), self.save_connection)])
            self.app.bridge.submit(self._connection_rows, self._show_connection, self._failed)
        elif name == "data_update":
            screen.show_section(name, [(tr("update.run"), self.update_data)])
            self.app.bridge.submit(self._update_rows, screen.set_rows, self._failed)
        elif name == "diagnosis":
            actions = [(tr("settings.run_diagnosis"), lambda: self.diagnose(False))]
            if self.app.kiosk.settings.reader.backend == "pcsc":
                actions.append((tr("settings.test_read"), lambda: self.diagnose(True)))
            screen.show_section(name, actions)
            screen.notice = diagnosis_hint(self.app.kiosk.settings)   # what it checks, before the manager runs it

    # -- 接続先変更 ------------------------------------------------------------------------------
    def _connection_rows(self) -> list[tuple[str, str, str]]:
        parsed = self.app.kiosk.sync.connection_file.load_parsed()
        if parsed is None:
            return [(tr("connection.url"), tr("connection.none"), "")]
        settings, connection, _certificate = parsed
        return [(tr("connection.url"), connection.url, ""),
                (tr("connection.recorder"), f"{connection.company} / {connection.recorder} / {connection.department}", ""),
                (tr("connection.proxy"), fmt.without_password(settings.proxy_url) or "—", "")]

    def _show_connection(self, rows) -> None:
        screen = self.app.settings_screen
        screen.set_rows(rows)
        screen.ids.rows.add_widget(self._form)

    def save_connection(self) -> None:
        app = self.app
        change = self._form.submission(app.kiosk.sync)   # the pairing code, or the pasted texts
        app.settings_screen.set_busy(tr("settings.running"))
        self.audit("settings.connection_change", "run", self._form.mode)
        app.bridge.submit(change, self._connection_saved, self._failed, slow=True)

    def _connection_saved(self, result) -> None:
        app = self.app
        self.audit("settings.connection_change", "saved", result.connection.url)
        app.settings_screen.set_busy("")
        self.show("connection")
        app.settings_screen.notice = tr("connection.saved", employees=result.employees,
                                        departments=result.departments)
        app.refresh_status()

    # -- データ更新 ------------------------------------------------------------------------------
    def _update_rows(self) -> list[tuple[str, str, str]]:
        kiosk = self.app.kiosk
        version = kiosk.sync.data_update_version()
        sync = kiosk.sync.sync.status
        policy = kiosk.sync.scheduler.policy   # the server's refresh settings, as last applied
        quiet = ", ".join(f"{start:%H:%M}-{end:%H:%M}" for start, end in policy.quiet_hours)
        return [(tr("update.last"), str(version) if version is not None else "—", ""),
                (tr("update.schedule"), tr("update.schedule_value", quiet=quiet,
                                           minutes=int(policy.interval.total_seconds() // 60)), ""),
                (tr("sync.state"), fmt.tr("status.online" if sync.online else "status.offline") + "  " +
                 fmt.tr("status.unsent", count=sync.pending), "")]

    def update_data(self) -> None:
        app = self.app
        app.settings_screen.set_busy(tr("settings.running"))
        self.audit("settings.data_update", "run")
        app.bridge.submit(app.kiosk.sync.data_update.update_on_demand, self._updated, self._failed, slow=True)

    def _updated(self, result) -> None:
        self.show("data_update")
        self.app.settings_screen.notice = fmt.update_summary(result)
        self.app.refresh_status()

    # -- 自己診断 --------------------------------------------------------------------------------
    def diagnose(self, test_read: bool) -> None:
        app = self.app
        app.settings_screen.set_busy(tr("settings.test_read_prompt") if test_read else tr("settings.running"))
        self.audit("settings.diagnosis", "run", "test_read" if test_read else "")
        app.bridge.submit(lambda: app.kiosk.diagnose.run(test_read=test_read), self._show_checks, self._failed,
                          slow=True)

    def _show_checks(self, checks: list) -> None:
        rows = []
        for check in checks:
            value = check.detail
            if not check.ok and check.remedy_key and check.outcome != "skipped":
                value += ("\n" if value else "") + catalogue()[check.remedy_key].remedy().get()
            rows.append((check.label.get(), value, check.outcome.value if hasattr(check.outcome, "value")
                         else check.outcome))
        self.app.settings_screen.set_busy("")
        self.app.settings_screen.set_rows(rows)

    def _info_rows(self) -> list[tuple[str, str, str]]:
        """Runs on the worker: counts come from the ledger."""
        kiosk = self.app.kiosk
        status = kiosk.status.snapshot(0)
        reading = kiosk.clock.read()
        recorder = kiosk.master.recorder()
        audit = "\n".join(fmt.audit_line(at.astimezone(reading.at.tzinfo), action, outcome, detail)
                          for at, action, outcome, detail in kiosk.manager.recent(5)) or tr("audit.none")
        return [
            (tr("info.version"), __version__, ""),
            (tr("info.recorder"), f"{recorder.code} / {recorder.department_code}" if recorder else "—", ""),
            (tr("info.data_dir"), str(kiosk.settings.data_dir), ""),
            (tr("info.punches"), tr("info.punches_value", total=kiosk.punches.count(), unsent=status.unsent), ""),
            (tr("info.time"), tr("info.time_value", source=fmt.tr(f"source.{reading.source.value}"),
                                 offset=kiosk.clock.offset.total_seconds()), ""),
            (tr("info.reader"), f"{tr(f'reader.{self.app.reader_state.value}')}  "
                                f"{tr(f'display.reader.{kiosk.settings.reader.backend}')}"
             if self.app.reader_state else "—", ""),
            (tr("info.audit"), audit, ""),
            (tr("info.refused"), self._refused_text(reading.at.tzinfo, status.refused),
             "fail" if status.refused else ""),
        ]

    # -- ログを書き出す (設定 › 情報): to a USB stick, on the worker ------------------------------------------
    def export_logs(self) -> None:
        self.app.settings_screen.set_busy(tr("log_export.searching"))
        self.app.bridge.submit(for_kiosk(self.app.kiosk, __version__).media, self._media_found, self._export_failed)

    def _media_found(self, media: list[Medium]) -> None:
        """One stick: write to it; several: the manager chooses by touch."""
        screen = self.app.settings_screen
        if len(media) == 1:
            return self._export_to(media[0])
        screen.set_busy("")
        screen.set_buttons([(tr("log_export.medium", name=m.name, free=human_size(m.free_bytes)),
                             lambda m=m: self._export_to(m)) for m in media])
        screen.notice = tr("log_export.choose")

    def _export_to(self, medium: Medium) -> None:
        self.app.settings_screen.set_rows([])
        self.app.settings_screen.set_busy(tr("log_export.running", name=medium.name))
        self.audit("settings.log_export", "run", medium.name)
        exporter = for_kiosk(self.app.kiosk, __version__)   # no I/O: that is export(), on the worker
        self.app.bridge.submit(lambda: exporter.export(medium.path), self._exported, self._export_failed, slow=True)

    def _exported(self, result) -> None:
        where, size = f"{result.path.parent.name}/{result.path.name}", human_size(result.size)
        self.audit("settings.log_export", "done", f"{where} {size}")
        self._after_export()
        if self.app.settings_screen.section == "info":
            self.app.settings_screen.notice = tr("log_export.done", path=where, size=size)

    def _export_failed(self, error: KioskError) -> None:
        self.audit("settings.log_export", "failed", error.key)
        self._after_export()
        self.app.presenter.show(error)

    def _after_export(self) -> None:
        screen = self.app.settings_screen
        if screen.section == "info":   # the manager may have opened another section meanwhile
            screen.set_busy("")
            self.app.bridge.submit(self._info_rows, screen.set_rows, self._failed)

    def _refused_text(self, tz, count: int) -> str:
        """How many, then one line per refused punch: time, employee, type and the server's reason (catalogue
        message)."""
        refused = self.app.kiosk.status.refused_punches(20)
        return "\n".join([tr("info.refused_count", count=count)] + [
            f"{r.punch.stamped_at.astimezone(tz):%m/%d %H:%M}  {r.name}  "
            f"{fmt.kind_label(r.punch.kind)}{r.mark()}  {r.reason()}" for r in refused]) if count \
            else tr("info.refused_none")

    def _failed(self, error: KioskError) -> None:
        self.app.settings_screen.set_busy("")
        self.audit(f"settings.{self.app.settings_screen.section}", "failed", error.key)
        self.app.presenter.show(error)


def diagnosis_hint(settings) -> str:
    """What 診断を実行 checks on this kiosk: the card reader only when there is one to probe (PC/SC), the fingerprint
    lines only with a sensor (kiosk.app_factory: reader_checks, device_checks)."""
    names = ["ledger", "clock", "server", "certificate", "ip_allow"]
    names += ["reader"] if settings.reader.backend == "pcsc" else []
    names += ["sensor", "match"] if settings.fingerprint.backend != "none" else []
    items = [tr(f"settings.diagnosis_item.{name}") for name in names]
    return tr("settings.diagnosis_hint").format(
        items=tr("update.joiner").join(items[:-1]) + tr("settings.diagnosis_hint_last") + items[-1])
