"""取り消し on the Kivy thread (issue 12): after a punch, the confirmation offers 「取り消し (5)」 for
``display.undo_seconds``, counting down once a second. A tap records the correction on the punch worker
(kiosk.services.undo.UndoService.cancel: durable before anything is shown), then the confirmation says
「打刻を取り消しました」; a refusal or a ledger failure goes to the error presenter. Leaving the confirmation (the
return to standby, a new wait, the next person's card or finger) withdraws the offer: a later screen never cancels
an earlier punch."""
from __future__ import annotations

import math
from typing import TYPE_CHECKING, Callable

from kivy.clock import Clock

from dakoku_core.domain.model import Correction, PunchResult
from dakoku_core.errors import KioskError
from dakoku_core.i18n import tr

if TYPE_CHECKING:
    from kiosk.ui.flow_host import FlowHost


class UndoOffer:
    def __init__(self, app: "FlowHost", on_cancelled: Callable[[], None]):
        self.app = app
        self._on_cancelled = on_cancelled   # the punch flow leaves the confirmation by itself
        self.result: PunchResult | None = None    # the punch on offer
        self.left = 0
        self._tick = None

    @property
    def offered(self) -> bool:
        return self.result is not None

    def seconds_for(self, result: PunchResult) -> int:
        """How long 取り消し is offered for ``result``: the window runs from the punch's stamp (the rule the server
        checks too), so a punch confirmed after the 打刻時警告 question keeps only what is left of it."""
        service = self.app.kiosk.undo
        if service is None or not service.enabled:
            return 0
        elapsed = self.app.kiosk.clock.read().at - result.punch.stamped_at
        return max(math.ceil((service.window - elapsed).total_seconds()), 0)   # the rule's grace covers the rest

    def offer(self, result: PunchResult) -> int:
        """The confirmation of ``result`` is on screen: offer its undo (when the device offers one) and return
        for how many seconds (0: not offered)."""
        self.withdraw()
        seconds = self.seconds_for(result)
        if seconds <= 0:
            return 0
        self.result, self.left = result, seconds
        self.app.punch_screen.undo_text = tr("undo.button", seconds=self.left)
        self._tick = Clock.schedule_interval(self._count_down, 1)
        return seconds

    def withdraw(self) -> None:
        if self._tick is not None:
            self._tick.cancel()
            self._tick = None
        self.result = None
        self.app.punch_screen.undo_text = ""

    def tap(self) -> None:
        """取り消し was touched: record the correction of the punch on offer (once)."""
        result = self.result
        self.withdraw()
        if result is None or self.app.punch_screen.phase != "done":
            return
        service = self.app.kiosk.undo
        self.app.bridge.submit(lambda: service.cancel(result.punch), self._cancelled, self._failed)

    def _count_down(self, _dt: float) -> None:
        self.left -= 1
        if self.left <= 0 or self.app.punch_screen.phase != "done":
            self.withdraw()
        else:
            self.app.punch_screen.undo_text = tr("undo.button", seconds=self.left)

    def _cancelled(self, _correction: Correction) -> None:
        self.app.refresh_status()
        if self.app.manager.current != "punch" or self.app.punch_screen.phase != "done":
            return   # the confirmation has gone meanwhile: the correction is recorded all the same
        self.app.punch_screen.show_cancelled(tr("undo.done"))
        self.app.sound.play("ok")
        self._on_cancelled()

    def _failed(self, error: KioskError) -> None:
        self.app.sound.play("error")
        self.app.presenter.show(error, auto_dismiss_after=self.app.display.error_seconds)
