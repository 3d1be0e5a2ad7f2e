"""The Kivy application: the UI half of the composition root (kiosk/app_factory.py builds the :class:`Kiosk` and
this app with it). It makes the flows, connects their events once (:meth:`KioskApp.connect_flows`), routes the
devices' events to the flow whose screen is showing, and keeps the status line and the clock.

Everything here runs on the Kivy thread. Services run on the bridge's worker; device callbacks arrive
through the bridge. No widget is touched from another thread."""
from __future__ import annotations

import logging

from kivy.clock import Clock
from kivy.core.window import Window
from kivy.lang import Builder
from kivy.uix.boxlayout import BoxLayout
from kivymd.app import MDApp

from kiosk.adapters import memory
from kiosk.adapters.wedge_reader import WedgeCardReader
from kiosk.app_factory import Kiosk
from dakoku_core.domain.modes import auto_kind
from dakoku_core.errors import KioskError, Situation
from dakoku_core.i18n import set_language
from dakoku_core.protocol.recorder_settings import RecorderSettings, punch_label_key
from kiosk.ports import CardEvent, ReaderState, ReaderStatus, Sound
from kiosk.settings import BREAK_PAIR, DisplaySettings
from kiosk.ui import format as fmt
from kiosk.ui.manager_flow import ManagerFlow
from kiosk.ui.finger_flow import FingerFlow
from kiosk.ui.punch_flow import PunchFlow
from kiosk.ui.wedge_input import WedgeKeyboard
from kiosk.ui.widgets import KioskScreenManager
from kiosk.ui.bridge import UiBridge
from kiosk.ui.error_presenter import ErrorPresenter
from kiosk.ui.fonts import register_fonts
from dakoku_core.resources import resource_root

log = logging.getLogger(__name__)
KV_DIR = resource_root() / "kv"   # the checkout, or the frozen bundle (dakoku_core/resources.py)
KV_FILES = ("common.kv", "employee_entry.kv", "standby.kv", "punch.kv", "password.kv", "settings.kv",
            "connection.kv", "error_presenter.kv", "demo_panel.kv", "sequence_question.kv")
_kv_loaded = False


def load_kv() -> None:
    global _kv_loaded
    if not _kv_loaded:
        register_fonts()
        for name in KV_FILES:
            Builder.load_file(str(KV_DIR / name))
        _kv_loaded = True


class KioskApp(MDApp):
    STATUS_EVERY = 5.0   # seconds between status line refreshes (a cheap indexed query off the UI thread)

    def __init__(self, kiosk: Kiosk, sound: Sound | None = None, **kwargs):
        super().__init__(**kwargs)
        self.kiosk = kiosk
        self.sound = sound
        self.display = kiosk.settings.display
        self.bridge = UiBridge()
        self.presenter = ErrorPresenter(help_base=self.help_base)
        self._status_trigger = Clock.create_trigger(self._query_status, 0.3)
        self.reader_state: ReaderState | None = None
        self.flow = PunchFlow(self)                         # standby, punch and password screens
        self.manager_flow = ManagerFlow(self)               # 設定
        self.finger_flow = FingerFlow(self, self.flow)      # fingers for the punch flow's waits
        self._events: list = []
        self.connect_flows()

    def connect_flows(self) -> None:
        """The flows' events, connected once (a language switch rebuilds the screens, not these)."""
        self.flow.connect("punched", lambda _result: self.refresh_status())
        self.flow.connect("punched", lambda _result: self.finger_flow.sync())   # 取り消し's offer takes a finger
        self.manager_flow.connect("closed", self.flow.go_standby)
        self.finger_flow.connect("sensor_changed", self.refresh_status)

    # the flows own their screens; these names are the app's view of them (kv rules, tests, language switch)
    standby = property(lambda self: self.flow.standby)
    punch_screen = property(lambda self: self.flow.punch_screen)
    password_screen = property(lambda self: self.flow.password_screen)
    settings_screen = property(lambda self: self.manager_flow.settings_screen)

    def help_base(self) -> str | None:
        """Where remedy pages are served: the attendance server's ``/help/`` (docs/remedies/README.md)."""
        client = self.kiosk.sync.slot.get()
        origin = getattr(client, "origin", None)
        return f"{origin}/help/" if origin else None

    # -- building -----------------------------------------------------------------------------
    def build(self):
        set_language(self.display.language)
        load_kv()
        self.title = "Dakoku"
        self.theme_cls.primary_palette = "Blue"
        self.manager = KioskScreenManager()   # screens change at once: a fade cost seconds per frame in software GL
        screens = self.flow.build_screens() + self.manager_flow.build_screens()
        # before the buttons are made; from the settings' own row: the master-data snapshot (about 1 s for
        # 10,000 employees) is loaded on the worker once standby has been drawn (on_start)
        self.apply_recorder_settings(self.kiosk.sync.stored_recorder_settings())
        self.flow.bind_screens()
        self.manager_flow.bind_screens()
        self.finger_flow.bind_screens()
        for screen in screens:
            self.manager.add_widget(screen)
        root = BoxLayout(orientation="vertical")
        root.add_widget(self.manager)
        self.demo_panel = None
        if self.kiosk.settings.demo and hasattr(self.kiosk.reader, "tap"):
            from kiosk.ui.demo_panel import DemoPanel

            fingerprint = self.kiosk.fingerprint
            sensor = fingerprint.sensor if fingerprint is not None else None
            self.demo_panel = DemoPanel(self.kiosk.reader,
                                        sensor if hasattr(sensor, "place_finger") else None,
                                        self.kiosk.settings.fingerprint.demo_fingers)
            root.add_widget(self.demo_panel)
        return root

    def on_start(self) -> None:
        if self.display.fullscreen:
            Window.show_cursor = False   # a touch kiosk: no pointer on screen
        if self.sound is None:
            from kiosk.ui.sound import KivySound

            sound = self.kiosk.settings.sound
            self.sound = KivySound(self.kiosk.settings.data_dir / "sounds", sound.volume, sound.silent)
        Window.bind(on_request_close=lambda *_: True)   # a kiosk does not close from the window manager
        Window.bind(on_touch_down=self._on_any_touch)
        self._tick(0)
        self._events = [Clock.schedule_interval(self._tick, 0.2),
                        Clock.schedule_interval(lambda _dt: self.refresh_status(), self.STATUS_EVERY)]
        self.refresh_status()
        for error in self.kiosk.startup_errors:
            self.presenter.show(error)
        self.wedge = None
        if isinstance(self.kiosk.reader, WedgeCardReader):
            self.wedge = WedgeKeyboard(self.kiosk.reader, accepts=lambda: self.manager.current in (
                "standby", "punch") or bool(self.manager_flow.registration.waiting_for))
        self.kiosk.sync.sync.subscribe(lambda _status: self.bridge.post(self.refresh_status))
        self.kiosk.sync.on_update_result(self.bridge.callback(self._data_updated))
        self.kiosk.sync.data_update.add_applied_listener(   # every データ更新: scheduled, on demand, after a change
            self.bridge.callback(lambda _snapshot: self._master_data_loaded(self.kiosk.master.recorder_settings())))
        self.kiosk.sync.on_sync_error(self.bridge.callback(self.presenter.show))   # e.g. certificate refused
        self.kiosk.start_background()
        self._after_first_frame(self._load_master_data)
        self.finger_flow.start()
        self.kiosk.reader.start(self.bridge.callback(self.handle_card),
                                self.bridge.callback(self.handle_reader_status),
                                self.bridge.callback(self.flow.handle_read_error))

    @staticmethod
    def _after_first_frame(fn) -> None:
        """``fn()`` on the Kivy thread once the first frame (standby) has been drawn."""
        def flipped(*_args) -> None:
            Window.unbind(on_flip=flipped)
            Clock.schedule_once(lambda _dt: fn(), 0)
        Window.bind(on_flip=flipped)

    def _load_master_data(self) -> None:
        """Standby is on screen: the master-data snapshot (every employee and credential, about 1 s for 10,000)
        loads on the punch worker. A card tapped meanwhile is punched right after it (one worker, in order). A ledger
        that cannot be read says so with its catalogue error, as it did when this ran before the first frame."""
        self.bridge.submit(self.kiosk.master.recorder_settings, self._master_data_loaded, self.presenter.show)

    def _master_data_loaded(self, settings: RecorderSettings) -> None:
        """The snapshot is in memory (at start and after each データ更新): it lives until the next one, out of the
        garbage collector's full passes (kiosk/adapters/memory.py)."""
        self.apply_recorder_settings(settings)
        memory.settle_long_lived()

    def handle_card(self, event: CardEvent) -> None:
        """A tap goes to the flow whose screen is showing: 設定's (認証登録 may have asked for it) or the punch's."""
        if self.manager.current == "settings":
            self.manager_flow.handle_card(event)
        else:
            self.flow.handle_card(event)

    def _on_any_touch(self, *_args) -> bool:
        self.flow.note_activity()
        self.manager_flow.note_activity()
        return False   # observe only

    def on_stop(self) -> None:
        Window.unbind(on_touch_down=self._on_any_touch)
        for event in self._events:
            event.cancel()
        self._status_trigger.cancel()
        self.flow.cancel_timers()
        self.finger_flow.stop()
        self.manager_flow.stop()
        self.presenter.cancel_timers()
        if self.demo_panel is not None:
            self.demo_panel.unbind_keys()
        if self.wedge is not None:
            self.wedge.unbind()
        self.kiosk.reader.stop()
        self.bridge.shutdown()

    def _data_updated(self, result) -> None:
        """A scheduled データ更新 finished. At start, a provisioned kiosk without data learns here whether it
        can punch: the error and 008 if the pull failed, nothing (the data arrived) otherwise."""
        if isinstance(result, KioskError):
            if self.kiosk.master.recorder() is None:
                self.presenter.show(result)
                self.presenter.show(KioskError("startup_data_missing", situation=Situation.STARTUP))
        else:
            self.presenter.withdraw({"startup_data_missing"})
        self.refresh_status()

    def apply_recorder_settings(self, settings: RecorderSettings) -> None:
        """The server's settings that show on screen: 打刻履歴を表示 and the break pair's names (休憩/外出). The
        device's display.labels still name the other types; for the break pair the server wins."""
        labels = {k: v for k, v in self.display.labels.items() if k not in BREAK_PAIR}
        labels.update({k: fmt.tr(punch_label_key(k, settings.break_labels)) for k in BREAK_PAIR})
        fmt.set_kind_labels(labels)
        self.standby.show_history = settings.show_punch_history
        self.standby.relabel()
        self.refresh_status()

    def apply_display(self, display: DisplaySettings) -> None:
        """New device settings from 設定 › 表示・機器: the punch flow's buttons and time-of-day modes."""
        self.flow.apply_display(display)

    # -- status ----------------------------------------------------------------------------------
    def handle_reader_status(self, status: ReaderStatus) -> None:
        previous, self.reader_state = self.reader_state, status.state
        if status.state is ReaderState.INIT_FAILED and previous is not ReaderState.INIT_FAILED:
            self.presenter.show(KioskError("device_init_failed", situation=Situation.STARTUP, detail=status.detail,
                                           device="reader"))
        elif status.state is ReaderState.DISCONNECTED and previous is not ReaderState.DISCONNECTED:
            self.presenter.show(KioskError("reader_disconnected", situation=self._reader_situation(),
                                           detail=status.detail, device="reader"))
        elif status.state is ReaderState.READY:
            # The reader is back: its error no longer applies, and it must not block the next tap.
            self.presenter.withdraw({"device_init_failed", "reader_disconnected"}, device="reader")
        self.refresh_status()

    def _reader_situation(self) -> Situation:
        """Where the reader was lost: 認証登録 (its section in 設定) says only 「…接続を確認してください」; タイムカード
        and the punch path ask to authenticate again."""
        if self.manager.current == "settings" and self.settings_screen.section == "registration":
            return Situation.REGISTRATION
        if self.manager.current == "punch" and self.punch_screen.purpose == "timecard":
            return Situation.BROWSER
        return Situation.PUNCH

    def refresh_status(self) -> None:
        """Ask for a status refresh; bursts (punches, reader events, the timer) become one query."""
        self._status_trigger()

    def _query_status(self, _dt: float = 0) -> None:
        history = 8 if self.standby.show_history else 0
        self.bridge.submit(lambda: self.kiosk.status.snapshot(history), self._show_status,
                           lambda err: log.warning("status refresh failed: %s", err))

    def _show_status(self, status) -> None:
        reading = self.kiosk.clock.read()
        self.standby.status_text = fmt.status_line(online=status.online, unsent=status.unsent,
                                                   oldest=status.oldest_unsent, now=reading.at,
                                                   reader=self.reader_state, source=reading.source,
                                                   sensor=self.finger_flow.sensor_state, refused=status.refused)
        lines = [fmt.history_line(p, name) for p, name in status.recent]
        self.standby.history_text = "\n".join(lines) if lines else fmt.tr("standby.history_empty")

    def _tick(self, _dt: float) -> None:
        at = self.kiosk.clock.read().at
        text = fmt.clock_line(at)
        if text != self.standby.time_text:
            self.standby.time_text = text
            self.standby.date_text = fmt.date_line(at)
            kind = auto_kind(self.flow.auto_modes, at.time())
            finger = self.finger_flow.enabled
            if kind is not None:
                self.standby.hint_text = fmt.tr("standby.auto_finger" if finger else "standby.auto",
                                                kind=fmt.kind_label(kind))
            else:
                self.standby.hint_text = fmt.tr("standby.choose_finger" if finger else "standby.choose")
            self.flow.count_down_wait()
            self.manager_flow.count_down_idle()


class StartupErrorApp(MDApp):
    """When the kiosk cannot even start (unreadable ledger, missing device backend): show why, full screen."""

    def __init__(self, error: KioskError, **kwargs):
        super().__init__(**kwargs)
        self.error = error
        self.presenter = ErrorPresenter()

    def build(self):
        load_kv()
        return BoxLayout()

    def on_start(self) -> None:
        Window.bind(on_request_close=lambda *_: True)
        self.presenter.show(self.error, details=True)   # nobody else will explain it: cause and remedy open
