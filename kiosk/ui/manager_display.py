"""設定 › 表示・機器: the device's own settings by touch: the names of 出勤/退勤 (from a short list: there is no
Japanese text entry on a kiosk), which punch buttons show, 都度選択 / モード動作 and the time-of-day windows, sound
volume and silence, and the reader and sensor backends. Saved through
:class:`kiosk.services.device_settings.DeviceSettingsService` (validated, atomic; 010 on a refused value, nothing
changed) and applied at once, except the device backends, which take effect at the next start. The server's
settings (休憩/外出, 打刻履歴を表示) are shown read-only: 「サーバーで設定」."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Callable

from kivy.properties import StringProperty
from kivy.uix.boxlayout import BoxLayout

from dakoku_core.domain.model import PunchKind
from dakoku_core.errors import KioskError
from dakoku_core.i18n import tr
from kiosk.services.device_settings import LABEL_CHOICES, NEEDS_RESTART, DeviceSettingsService
from kiosk.settings import Settings
from kiosk.ui import format as fmt
from kiosk.ui.manager_pages import ensure_kv
from kiosk.ui.widgets import BigButton

if TYPE_CHECKING:
    from kiosk.ui.flow_host import FlowHost

SECTION = "display"
ON, OFF = (0.20, 0.36, 0.62, 1), (0.88, 0.90, 0.93, 1)
DARK, LIGHT = (0.13, 0.15, 0.18, 1), (1, 1, 1, 1)
VOLUMES = (0.0, 0.25, 0.5, 0.75, 1.0)
READERS, SENSORS = ("pcsc", "wedge", "simulated"), ("none", "simulated", "libfprint")
STEP = timedelta(minutes=30)


class ChoiceRow(BoxLayout):
    title = StringProperty("")
    note = StringProperty("")

    def set_choices(self, options: list[tuple[str, object]], selected: object,
                    on_choose: Callable[[object], None]) -> None:
        grid = self.ids.choices
        grid.clear_widgets()
        for label, value in options:
            chosen = value == selected
            button = BigButton(text=label, font_size="22sp", size_hint_y=None, height="76dp",
                               face_color=ON if chosen else OFF, text_color=LIGHT if chosen else DARK)
            button.value = value
            button.bind(on_release=lambda b: on_choose(b.value))
            grid.add_widget(button)

    def button(self, label: str) -> BigButton:
        return next(b for b in self.ids.choices.children if b.text == label)


def apply(app: "FlowHost", settings: Settings) -> None:
    """The new device settings on the running kiosk: buttons, names, modes and sound at once."""
    app.kiosk.settings, app.display = settings, settings.display
    app.apply_display(settings.display)   # the punch flow's modes and buttons
    app.apply_recorder_settings(app.kiosk.master.recorder_settings())   # the names (and the server's pair)
    configure = getattr(app.sound, "configure", None)
    if configure is not None:
        configure(settings.sound.volume, settings.sound.silent)


class DisplayPage:
    def __init__(self, app: "FlowHost", audit: Callable[..., None]):
        self.app = app
        self.audit = audit   # the manager flow's audit log: audit(action, outcome, detail="")
        self.service = DeviceSettingsService(lambda: app.kiosk.settings)
        self.new_mode = {"kind": "clock_in", "start": "05:00", "end": "12:59"}
        self.rows: dict[str, ChoiceRow] = {}

    @property
    def screen(self):
        return self.app.settings_screen

    def show(self, notice: str = "") -> None:
        """The page; shown again after a change, it stays scrolled where the manager's finger was."""
        ensure_kv()
        scroll = self.screen.ids.rows_scroll.scroll_y if self.screen.section == SECTION else 1
        self.screen.show_section(SECTION, [])
        self.screen.ids.rows_scroll.scroll_y = scroll
        self.screen.notice = notice
        self.rows = {}
        settings, server = self.app.kiosk.settings, self.app.kiosk.master.recorder_settings()
        display = settings.display
        add = self._row
        for kind, names in LABEL_CHOICES.items():
            add(f"label.{kind}", tr("display.label_of", kind=tr(f"punch.{kind}")), [(n, n) for n in names],
                display.labels.get(kind, names[0]), lambda name, k=kind: self._label(k, name))
        pair = "、".join(fmt.kind_label(k) for k in (PunchKind.BREAK_START, PunchKind.BREAK_END))
        add("break_labels", tr("display.break_labels"), [], None, None, tr("display.server_owned", value=pair))
        for kind in PunchKind:
            add(f"hidden.{kind.value}", tr("display.button_of", kind=fmt.kind_label(kind)),
                [(tr("display.shown"), False), (tr("display.hidden"), True)], kind.value in display.hidden,
                lambda hide, k=kind.value: self._hidden(k, hide))
        add("punch_mode", tr("display.punch_mode"), [(tr("display.each_time"), "each_time"),
                                                     (tr("display.keep"), "keep")],
            display.punch_mode, lambda mode: self._save("display", punch_mode=mode))
        self._auto_mode_rows(display.auto_modes)
        history = tr("display.on") if server.show_punch_history else tr("display.off")
        add("history", tr("display.history"), [], None, None, tr("display.server_owned", value=history))
        add("volume", tr("display.volume"), [(f"{int(v * 100)}%", v) for v in VOLUMES], settings.sound.volume,
            lambda v: self._save("sound", volume=v))
        add("silent", tr("display.silent"), [(tr("display.on"), True), (tr("display.off"), False)],
            settings.sound.silent, lambda v: self._save("sound", silent=v))
        add("reader", tr("display.reader"), [(tr(f"display.reader.{r}"), r) for r in READERS],
            settings.reader.backend, lambda r: self._save("reader", backend=r), tr("display.restart_note"))
        add("sensor", tr("display.sensor"), [(tr(f"display.sensor.{s}"), s) for s in SENSORS],
            settings.fingerprint.backend, lambda s: self._save("fingerprint", backend=s), tr("display.restart_note"))

    def _row(self, name: str, title: str, options, selected, on_choose, note: str = "") -> ChoiceRow:
        row = ChoiceRow(title=title, note=note)
        if options:
            row.set_choices(options, selected, on_choose)
        self.screen.ids.rows.add_widget(row)
        self.rows[name] = row
        return row

    def _auto_mode_rows(self, modes: list) -> None:
        for index, mode in enumerate(modes):
            self._row(f"auto.{index}", tr("display.auto_mode", start=mode["start"], end=mode["end"],
                                          kind=fmt.kind_label(PunchKind(mode["kind"]))),
                      [(tr("credentials.delete"), index)], None, self._remove_mode)
        new = self.new_mode
        self._row("new.kind", tr("display.new_mode"), [(fmt.kind_label(k), k.value) for k in PunchKind],
                  new["kind"], lambda k: self._edit_mode(kind=k), tr("display.auto_none") if not modes else "")
        for end in ("start", "end"):
            self._row(f"new.{end}", tr(f"display.new_{end}", time=new[end]),
                      [("−30分", -1), ("+30分", 1)], None, lambda d, e=end: self._step(e, d))
        self._row("new.add", "", [(tr("display.add_mode"), True)], None, lambda _v: self._add_mode())

    # -- changes ----------------------------------------------------------------------------------
    def _label(self, kind: str, name: str) -> None:
        labels = {k: v for k, v in self.app.kiosk.settings.display.labels.items() if k != kind}
        if name != LABEL_CHOICES[kind][0]:
            labels[kind] = name
        self._save("display", labels=labels)

    def _hidden(self, kind: str, hide: bool) -> None:
        hidden = [k for k in self.app.kiosk.settings.display.hidden if k != kind] + ([kind] if hide else [])
        self._save("display", hidden=hidden)

    def _remove_mode(self, index: int) -> None:
        modes = list(self.app.kiosk.settings.display.auto_modes)
        del modes[index]
        self._save("display", auto_modes=modes)

    def _add_mode(self) -> None:
        self._save("display", auto_modes=list(self.app.kiosk.settings.display.auto_modes) + [dict(self.new_mode)])

    def _edit_mode(self, **values) -> None:
        self.new_mode.update(values)
        self.show()

    def _step(self, end: str, direction: int) -> None:
        at = datetime.strptime(self.new_mode[end], "%H:%M") + direction * STEP
        self._edit_mode(**{end: f"{at:%H:%M}"})

    def _save(self, section: str, **values) -> None:
        self.audit(f"settings.{SECTION}", "run", f"{section}.{','.join(values)}")
        self.app.bridge.submit(lambda: self.service.change(section, **values),
                               lambda settings: self._saved(section, settings), self._failed)

    def _saved(self, section: str, settings: Settings) -> None:
        apply(self.app, settings)
        self.audit(f"settings.{SECTION}", "saved", section)
        if self.screen.section == SECTION:
            self.show(tr("display.saved_restart" if section in NEEDS_RESTART else "display.saved"))

    def _failed(self, error: KioskError) -> None:
        self.audit(f"settings.{SECTION}", "failed", error.key)
        self.app.presenter.show(error)
