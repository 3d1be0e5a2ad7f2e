"""What a flow may use of the app (:class:`kiosk.ui.app.KioskApp` implements it): the services the composition root
built, the bridge, the screen manager and the shared screens, the error presenter, sound and the display settings.
Other flows are not in it: flows reach one another only through the events the app connects
(:meth:`KioskApp.connect_flows`)."""
from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from kivy.uix.screenmanager import ScreenManager

    from kiosk.app_factory import Kiosk
    from kiosk.ports import ReaderState, Sound
    from dakoku_core.protocol.recorder_settings import RecorderSettings
    from kiosk.settings import DisplaySettings
    from kiosk.ui.bridge import UiBridge
    from kiosk.ui.error_presenter import ErrorPresenter


class FlowHost(Protocol):
    kiosk: "Kiosk"                  # the services (kiosk/app_factory.py)
    bridge: "UiBridge"              # work off the Kivy thread, results back on it
    manager: "ScreenManager"        # which screen shows (``current``)
    presenter: "ErrorPresenter"
    sound: "Sound"
    display: "DisplaySettings"
    reader_state: "ReaderState | None"
    # the screens, each owned by one flow (PunchFlow: standby, punch, password; ManagerFlow: settings)
    standby: object
    punch_screen: object
    password_screen: object
    settings_screen: object

    def refresh_status(self) -> None: ...

    def apply_recorder_settings(self, settings: "RecorderSettings") -> None: ...

    def apply_display(self, display: "DisplaySettings") -> None: ...

    def stop(self) -> None: ...
