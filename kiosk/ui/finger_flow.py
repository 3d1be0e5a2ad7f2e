"""Punch by finger on the Kivy thread: while the punch screen waits for a credential (or standby, when a time-of-day
mode chooses the punch type), a capture waits for a finger on the bridge's slow worker; leaving the wait (a card,
戻る, the countdown, another screen) cancels it.

A finger becomes a probe off the UI thread; here it must still be accepted by the punch screen (one credential
is one punch, whichever comes first), then identification and the punch run on the punch worker and end in the
same confirmation or error as a card.

2-factor mode (``fingerprint.two_factor``): when several employees match well, the seed's message asks for the login
ID or employee code; the ID keypad opens, then the next finger is verified 1:1 against that employee only.
The sensor's presence (re-plugged, unplugged, failed at start) is in the status line; a sensor that comes back
takes fingers again without a restart.

Public API: :meth:`bind_screens`, :meth:`start`, :meth:`stop`, :meth:`sync`, :attr:`enabled`, :attr:`sensor_state`,
:meth:`handle_prompt`, :meth:`handle_sensor_status`. It drives the punch through the :class:`PunchFlow`'s public API
(``wait_for``, ``take_credential``, ``show_punched``, ``punch_failed``...), handles the keypad's 2-factor ID step
itself, and emits ``sensor_changed()`` when the sensor's state (for the status line) changes."""
from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING

from kivy.clock import Clock

from dakoku_core.domain.model import Employee
from dakoku_core.errors import KioskError
from kiosk.fingerprint.prompts import RETRY_PROMPTS, FingerPrompt, SensorStatus
from dakoku_core.i18n import tr
from kiosk.ui.flow_events import FlowEvents

if TYPE_CHECKING:
    from kiosk.ui.flow_host import FlowHost
    from kiosk.ui.punch_flow import PunchFlow

log = logging.getLogger(__name__)
SENSOR_ERRORS = {"device_init_failed", "enrollment_cancelled"}
SENSOR_PROBE_SECONDS = 5.0     # while the sensor is broken: how often to look for it again


class FingerFlow(FlowEvents):
    EVENTS = ("sensor_changed",)   # the sensor came, went or failed: the status line changes

    def __init__(self, app: "FlowHost", punch: "PunchFlow"):
        super().__init__()
        self.app = app
        self.punch = punch                       # the flow whose waits a finger serves
        self._cancel: threading.Event | None = None
        self._since: float | None = None         # the wait the running capture belongs to
        self.broken: KioskError | None = None    # a device failure stops the loop until the sensor is back
        self.absent = False                      # the sensor reported it is gone
        self.verify_for: Employee | None = None  # 2-factor: the next finger is verified against this employee
        self._holding = False                    # switching screens for an accepted finger: no new capture
        self._probe_event = None
        self._verify_event = None
        self._stopped = False

    @property
    def service(self):
        return self.app.kiosk.fingerprint

    @property
    def enabled(self) -> bool:
        return self.service is not None and self.broken is None

    @property
    def sensor_state(self) -> str | None:
        """For the status line: None without a configured sensor, else "present", "absent" or "failed"."""
        if self.service is None:
            return "failed" if self.app.kiosk.settings.fingerprint.backend != "none" else None
        if self.absent:
            return "absent"
        return "failed" if self.broken is not None else "present"

    def bind_screens(self) -> None:
        if self.service is None:
            return
        self.app.punch_screen.finger = True
        self.app.manager.bind(current=lambda *_: self.sync())
        self.app.punch_screen.bind(phase=lambda *_: self.sync(), purpose=lambda *_: self.sync())
        self.app.password_screen.bind(on_code=self._code_entered)   # the 2-factor ID step is this flow's

    def start(self) -> None:
        """At app start: sensor events reach the UI through the bridge; standby may already take fingers."""
        if self.service is None:
            return
        bridge = self.app.bridge
        self.service.sensor.set_callbacks(prompt=bridge.callback(self.handle_prompt),
                                          status=bridge.callback(self.handle_sensor_status))
        at_start = [e for e in self.app.kiosk.startup_errors if e.device == "sensor"]
        if at_start:        # not plugged in at start: shown by the app; look for it as after an unplug
            self.broken = at_start[0]
            self.app.punch_screen.set_finger(False)
            self._schedule_probe()
        self.sync()

    def _wanted(self) -> bool:
        app = self.app
        if not self.enabled or self._holding:
            return False
        if app.manager.current == "standby":
            return bool(self.punch.auto_modes)    # a time-of-day mode: a bare finger punches, like a bare tap
        if app.manager.current == "punch" and app.punch_screen.phase == "done":
            return self.punch.undo.offered        # 取り消し on offer: the next person's finger ends it
        return (app.manager.current == "punch" and app.punch_screen.phase == "wait"
                and app.punch_screen.purpose == "punch")

    def sync(self) -> None:
        """Start the capture when a screen waits for a finger; cancel it when none does. A capture belongs to one
        wait: it takes only a finger read since that wait began, and a new wait (another punch type, the next
        person) starts a new capture."""
        app = self.app
        if app.manager.current != "punch" or app.punch_screen.phase != "wait":
            self._end_verify()
        self.punch.waits.refresh()
        since = self.punch.waits.window.opened_at
        wanted = self._wanted() and since is not None
        if self._cancel is not None and (not wanted or self._since != since):
            self._cancel.set()
            self._cancel = None
        if wanted and self._cancel is None:
            cancel = threading.Event()
            self._cancel, self._since = cancel, since
            self.app.bridge.submit(lambda: self.service.wait_for_finger(cancel, since=since),
                                   lambda probe: self._finger(probe, cancel),
                                   lambda error: self._failed(error, cancel), device=True)

    def stop(self) -> None:
        self._stopped = True      # sensor callbacks still in flight (e.g. CLOSED as the kiosk closes) do nothing
        self._end_verify()
        if self._probe_event is not None:
            self._probe_event.cancel()
        if self._cancel is not None:
            self._cancel.set()
            self._cancel = None

    def _ended(self, cancel: threading.Event) -> bool:
        """The capture returned: forget it; True if it had been cancelled meanwhile."""
        if self._cancel is cancel:
            self._cancel = None
        return cancel.is_set()

    # -- a finger ------------------------------------------------------------------------------
    def _finger(self, probe, cancel: threading.Event) -> None:
        if self._ended(cancel):
            return
        app = self.app
        employee = self.verify_for      # read before accepting: accepting ends the wait, and with it the step
        if app.presenter.is_open or not self._wanted() or not self._accept():
            self.sync()   # an error is being read, a card came first, or no punch type: wait for the next finger
            return
        kind, service = app.punch_screen.kind, self.service
        if employee is not None:
            job = lambda: service.punch_verified(kind, probe, employee)   # noqa: E731
        else:
            job = lambda: service.punch(kind, probe)   # noqa: E731
        app.bridge.submit(job, self.punch.show_punched, self._punch_failed)

    def _accept(self) -> bool:
        """Take the finger as this punch's credential (on standby the time of day chooses the type first; on a
        confirmation it ends 取り消し's offer). Leaving the wait ends a 2-factor step (see sync)."""
        self._holding = True      # the screens change under the finger: no new capture meanwhile
        try:
            return self.punch.take_credential()
        finally:
            self._holding = False

    def _punch_failed(self, error: KioskError) -> None:
        app = self.app
        self._end_verify()   # a 1:1 step is one attempt: in モード動作 the wait comes back for the next person
        if error.key != "fingerprint_ambiguous_enter_id":
            self.punch.punch_failed(error)
            return
        app.sound.play("error")          # the message asks for the ID: the keypad is under it
        app.password_screen.start_finger_id(app.punch_screen.kind)
        self.punch.restart_countdown()
        app.manager.current = "password"
        app.presenter.show(error, auto_dismiss_after=app.display.error_seconds)

    def _code_entered(self, screen, code: str) -> None:
        if screen.purpose == "finger_id":
            self.id_entered(code)

    def id_entered(self, code: str) -> None:
        """2-factor step one done on the keypad: find the employee, then wait for their finger."""
        app = self.app
        app.bridge.submit(lambda: self.service.employee_for_verify(code), self._verify_next,
                          self.punch.password_failed)

    def _verify_next(self, employee: Employee) -> None:
        app = self.app
        if app.manager.current != "password" or app.password_screen.purpose != "finger_id":
            return   # the person pressed 戻る (or the countdown ran out) before the answer came
        self.punch.wait_for(app.password_screen.kind)
        app.punch_screen.headline = tr("wait.finger_for", name=employee.display_name)
        self.verify_for = employee
        # モード動作 waits without a countdown: the 1:1 step must not outlive the person who asked for it.
        self._verify_event = Clock.schedule_once(lambda _dt: self._verify_expired(employee),
                                                 app.display.wait_seconds)

    def _verify_expired(self, employee: Employee) -> None:
        self._verify_event = None
        if self.verify_for is employee:
            self.verify_for = None
            self.punch.return_home()

    def _end_verify(self) -> None:
        self.verify_for = None
        if self._verify_event is not None:
            self._verify_event.cancel()
            self._verify_event = None

    # -- the sensor ----------------------------------------------------------------------------
    def _failed(self, error: KioskError, cancel: threading.Event) -> None:
        if self._ended(cancel):
            return   # cancelled by leaving the wait: not an error
        if error.key == "auth_failed":
            self.sync()   # no finger within the port's timeout: keep waiting
            return
        error.device = "sensor"
        self.broken = error   # device failure: say so once; cards keep working until the sensor is back
        self.app.punch_screen.set_finger(False)
        log.error("fingerprint sensor failed: %s", error)
        self.app.sound.play("error")
        self.app.presenter.show(error, auto_dismiss_after=self.app.display.error_seconds)
        self.emit("sensor_changed")
        self._schedule_probe()

    def _schedule_probe(self) -> None:
        self._probe_event = Clock.schedule_once(lambda _dt: self._probe_sensor(), SENSOR_PROBE_SECONDS)

    def _probe_sensor(self) -> None:
        """While broken: silently reopen the sensor (a re-plugged device is found anew) until it answers."""
        if self.broken is None or self.service is None or self._stopped:
            return
        self.app.bridge.submit(self.service.reopen_sensor, lambda _none: self._recovered(),
                               lambda _error: self._schedule_probe(), device=True)

    def _recovered(self) -> None:
        if self.broken is not None and not self._stopped:
            self.handle_sensor_status(SensorStatus.PRESENT)

    def handle_sensor_status(self, status: SensorStatus) -> None:
        if self._stopped:
            return
        if status is SensorStatus.PRESENT:
            self.absent = False
            if self.broken is not None:
                self.broken = None
                self.app.punch_screen.set_finger(True)
                self.app.presenter.withdraw(SENSOR_ERRORS, device="sensor")
            self.sync()
        elif status is SensorStatus.ABSENT:
            self.absent = True
        self.emit("sensor_changed")

    def handle_prompt(self, prompt: FingerPrompt) -> None:
        """Retry prompts (too short, centre the finger...) are hints on the waiting punch screen, not errors."""
        screen = self.app.punch_screen
        if not self._stopped and prompt in RETRY_PROMPTS and self.app.manager.current == "punch" and screen.phase == "wait":
            screen.show_hint(tr(f"finger.{prompt.value}"))
