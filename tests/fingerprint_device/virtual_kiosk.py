"""The whole kiosk (a real Kivy app from the composition root) with its fingerprint backend on libfprint's
``virtual_image`` driver: the test plays the finger by sending synthetic impressions through the driver's socket,
and touches the real screens. Waiting is on events (the sensor's prompts, the app's state, advanced frames).

The app installs its own sensor callbacks at start; :func:`libfprint_kiosk` tees them to a :class:`Recorder` so
that a test knows when libfprint is waiting for a finger (an image sent earlier is dropped by libfprint)."""
from __future__ import annotations

import os
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np

from fingerprint_device.conftest import Recorder, VirtualImageClient
from dakoku_core.domain.model import Employee
from dakoku_core.fingerprint.enroll import consolidate
from kiosk.fingerprint.prompts import FingerPrompt
from kiosk.settings import FingerprintSettings
from kivy_harness import advance, running_app, touch, wait_until

def _tee(first, second):
    if second is None:
        return first
    return lambda value: (first(value), second(value))


@dataclass
class VirtualKiosk:
    app: object
    client: VirtualImageClient
    recorder: Recorder
    socket_path: str
    placed: int = 0                         # PLACE_FINGER prompts already answered with an image
    extra_clients: list = field(default_factory=list)

    @property
    def service(self):
        return self.app.kiosk.fingerprint

    def employee(self, code: str) -> Employee:
        employee = self.app.kiosk.master.employee_by_code_or_login(code)
        assert employee is not None, code
        return employee

    def enrol(self, code: str, images: np.ndarray, finger: int = 0) -> None:
        """Straight into the kiosk's sealed store (consolidated like an enrolment, no duplicate check, no server):
        the setup of the punch rows, and how two employees end up with one finger (a mix-up on two kiosks),
        which identification must then refuse to guess between."""
        employee = self.employee(code)
        enrollment = consolidate([self.service.extractor.extract(image) for image in images])
        self.service.store.add(employee.key, finger, employee.department_code, enrollment.templates,
                               enrollment.codes)

    def waiting_for_finger(self) -> bool:
        return self.recorder.prompts.count(FingerPrompt.PLACE_FINGER) > self.placed

    def place(self, image: np.ndarray, timeout: float = 20.0) -> None:
        """Wait (advancing frames) until libfprint asks for a finger it was not given yet, then send one."""
        wait_until(self.waiting_for_finger, timeout=timeout)
        self.placed = self.recorder.prompts.count(FingerPrompt.PLACE_FINGER)
        self.client.image(image)

    def unanswered(self) -> None:
        """The capture that asked is gone (device error, unplug): wait for the next one to ask."""
        self.placed = self.recorder.prompts.count(FingerPrompt.PLACE_FINGER)

    def reconnect(self) -> None:
        """A fresh virtual_image device listens on the socket again (after a removal): connect to it."""
        if self.client is not None:
            self.extra_clients.append(self.client)
        self.client = VirtualImageClient(self.socket_path)

    def dialog_text(self) -> tuple[str, str, str]:
        """What the error modal shows: (code line, message, cause)."""
        dialog = self.app.presenter.dialog
        assert dialog is not None, "no error is shown"
        return dialog.ids.code_label.text, dialog.ids.message_label.text, dialog.ids.cause_label.text

    def close_error(self) -> None:
        touch(self.app.presenter.dialog.ids.close_button)
        wait_until(lambda: not self.app.presenter.is_open)

    def close(self) -> None:
        for client in [self.client, *self.extra_clients]:
            if client is not None:
                client.close()


@contextmanager
def libfprint_kiosk(window, tmp_path, env, socket_dir: str, *, connect: bool = True, provisioning=None,
                    **options):
    """A running kiosk whose sensor is libfprint ``virtual_image`` on ``socket_dir``/image.sock (``env`` is the
    monkeypatch that also set or cleared the FP_VIRTUAL_* variables); ``options`` go to FingerprintSettings.
    With ``provisioning`` (tests/sync/harness.py) the kiosk is connected to that server and online first."""
    from kiosk.adapters.connection_file import ConnectionFile
    from kiosk.fingerprint.libfprint_sensor import LibfprintSensor
    from kiosk.ports.recorder_api import ConnectionSettings

    if provisioning is not None:
        ConnectionFile(tmp_path).save(ConnectionSettings(provisioning.connection_text,
                                                         provisioning.certificate_text))
    path = os.path.join(socket_dir, "image.sock")
    if connect:
        env.setenv("FP_VIRTUAL_IMAGE", path)
    recorder = Recorder()
    set_callbacks = LibfprintSensor.set_callbacks
    env.setattr(LibfprintSensor, "set_callbacks", lambda self, prompt=None, status=None: set_callbacks(
        self, prompt=_tee(recorder.prompt, prompt), status=_tee(recorder.status, status)))
    options = {"backend": "libfprint", "driver": "virtual_image", "demo_fingers": 0, **options}
    with running_app(window, tmp_path, fingerprint=FingerprintSettings(**options)) as app:
        kiosk = VirtualKiosk(app, None, recorder, path)
        try:
            if provisioning is not None:
                wait_until(app.kiosk.sync.sync.is_online, timeout=30)
            if app.kiosk.fingerprint is not None:
                if connect:                         # the device opened: libfprint listens on the socket
                    kiosk.client = VirtualImageClient(path)
                wait_until(lambda: not app.kiosk.fingerprint_warm_up.running, timeout=30)
            advance(3)
            yield kiosk
        finally:
            if kiosk.client is not None:
                kiosk.close()


def keypad(app, text: str) -> None:
    keys = {b.key: b for b in app.password_screen.ids.keypad.children}
    for key in text:
        touch(keys[key])
    touch(app.password_screen.ids.submit_button)
