"""取り消し (issue 12): undo of the punch just made, from its confirmation screen, within a few seconds.

The undo is a *correction*: a ledger entry of its own (kind ``cancel``, its own UUID, stamped at the tap, naming
the punch it cancels), committed durably before 「取り消しました」 is shown, and synced like a punch (the outbox
uploads it after the punch: the ledger's order). The punch's row is never changed or deleted. From then on the
kiosk treats the punch as not made: the history, the re-authentication interval and the sequence warning skip
it (kiosk.adapters.ledger.punch_store), so the employee can punch the right type at once.

The window is the device setting ``display.undo_seconds`` (dakoku_core.domain.rules.UNDO_SECONDS_DEFAULT); the same
rule, ``dakoku_core.domain.rules.check_correction``, judges it here and on the server. No Kivy here."""
from __future__ import annotations

from datetime import timedelta
from typing import Callable

from dakoku_core.domain.model import Correction, Punch
from dakoku_core.domain.rules import check_correction
from dakoku_core.errors import KioskError, Situation
from kiosk.ports import Clock, CorrectionLedger


class UndoService:
    """Runs on the punch worker (the bridge's one ordered worker), so a correction and the next punch are
    serialised like two punches."""

    def __init__(self, ledger: CorrectionLedger, clock: Clock, *, window_seconds: float,
                 is_online: Callable[[], bool] = lambda: False, on_recorded: Callable[[], None] = lambda: None,
                 forget: Callable[[Punch], None] = lambda _punch: None):
        self._ledger = ledger
        self._clock = clock
        self.window = timedelta(seconds=window_seconds)
        self._is_online = is_online
        self._on_recorded = on_recorded   # wake the outbox worker
        self._forget = forget             # PunchService.forget: the interval no longer counts the punch

    @property
    def enabled(self) -> bool:
        return self.window > timedelta(0)

    def cancel(self, punch: Punch) -> Correction:
        """Record the correction of ``punch`` (durable when this returns) and return it. Cancelling a punch
        twice returns the first correction (a second tap records nothing). Raises ``correction_refused``
        A when the punch is not in this kiosk's ledger, B when the undo window has passed; a ledger failure
        is the ledger's error, and then nothing was cancelled."""
        if not self.enabled:
            raise KioskError("correction_refused", situation=Situation.PUNCH, cause_letter="B",
                             detail="undo is switched off (display.undo_seconds = 0)")
        existing = self._ledger.correction_for(punch.uuid)
        if existing is not None:
            return existing
        stored = self._ledger.get(punch.uuid)
        if not isinstance(stored, Punch) or stored.employee_key != punch.employee_key:
            raise KioskError("correction_refused", situation=Situation.PUNCH, cause_letter="A",
                             detail=f"punch {punch.uuid} is not in this kiosk's ledger")
        clock = self._clock.read()
        check_correction(stored.stamped_at, clock.at, self.window)
        correction = Correction(cancels=stored.uuid, employee_key=stored.employee_key, stamped_at=clock.at,
                                time_source=clock.source, offline=not self._is_online(),
                                recorder_code=stored.recorder_code)
        self._ledger.record_correction(correction, stored.auth_method)
        self._forget(stored)
        self._on_recorded()
        return correction
