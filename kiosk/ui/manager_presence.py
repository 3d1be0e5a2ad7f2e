"""設定 › 出勤状況: who is in now (出勤中 / 休憩中 / 退勤 with times), from this recorder's ledger merged with the
server's view when online (:class:`kiosk.services.presence.PresenceService`, on the bridge's slow worker).

It sits behind the manager PIN: the list shows who came when, which is personal data (attendance times), and a
kiosk stands where customers and visitors pass; the manager can show it to a colleague. Large type (30 sp names,
26 sp states) so it can be read at arm's length."""
from __future__ import annotations

from typing import TYPE_CHECKING

from kivy.properties import ColorProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout

from dakoku_core.errors import KioskError
from dakoku_core.i18n import tr
from kiosk.services.presence import Presence, PresenceBoard, PresenceRow
from kiosk.ui import format as fmt
from kiosk.ui.manager_pages import ensure_kv

if TYPE_CHECKING:
    from kiosk.ui.flow_host import FlowHost

SECTION = "presence"
STATE_COLOURS = {Presence.WORKING: (0.10, 0.52, 0.32, 1), Presence.ON_BREAK: (0.14, 0.40, 0.74, 1),
                 Presence.LEFT: (0.45, 0.47, 0.52, 1)}


class PresenceItem(BoxLayout):
    name = StringProperty("")
    state_text = StringProperty("")
    state_color = ColorProperty((0.5, 0.5, 0.5, 1))
    times = StringProperty("")


class PresencePage:
    def __init__(self, app: "FlowHost"):
        self.app = app
        self.board: PresenceBoard | None = None

    @property
    def screen(self):
        return self.app.settings_screen

    def show(self) -> None:
        ensure_kv()
        self.screen.show_section(SECTION, [(tr("presence.refresh"), self.refresh)])
        self.refresh()

    def refresh(self) -> None:
        self.screen.set_busy(tr("settings.running"))
        self.app.bridge.submit(self.app.kiosk.presence.board, self._show, self._failed, slow=True)

    def _show(self, board: PresenceBoard) -> None:
        if self.screen.section != SECTION:
            return
        self.board = board
        self.screen.set_busy("")
        self.screen.notice = self.source_line(board)
        rows = self.screen.ids.rows
        rows.clear_widgets()
        from kivy.factory import Factory

        counts = {state.value: board.counts.get(state, 0) for state in Presence}
        rows.add_widget(Factory.PageHeading(text=tr("presence.counts", **counts), font_size="28sp"))
        for row in board.rows:
            rows.add_widget(self.item(row))
        if not board.rows:
            rows.add_widget(Factory.PageHeading(text=tr("presence.nobody")))

    def item(self, row: PresenceRow) -> PresenceItem:
        return PresenceItem(name=f"{row.employee.display_name}", state_text=tr(f"presence.{row.state.value}"),
                            state_color=STATE_COLOURS[row.state], times=self.times(row))

    def times(self, row: PresenceRow) -> str:
        tz = self.app.kiosk.settings.tz
        clock_in = row.last.clock_in_at
        return tr("presence.times", clock_in=f"{clock_in.astimezone(tz):%H:%M}" if clock_in else "—",
                  kind=fmt.kind_label(row.last.kind), last=f"{row.last.at.astimezone(tz):%H:%M}")

    def source_line(self, board: PresenceBoard) -> str:
        values = dict(day=f"{board.day:%m/%d}", time=f"{board.read_at:%H:%M}")
        if board.server_checked:
            return tr("presence.checked", **values)
        if board.server_error is not None:
            return tr("presence.server_failed", message=board.server_error.message(), **values)
        return tr("presence.ledger_only", **values)

    def _failed(self, error: KioskError) -> None:
        self.screen.set_busy("")
        self.app.presenter.show(error)
