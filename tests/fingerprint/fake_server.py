"""A stand-in for the Recorder API's fingerprint endpoints in tests without a server: records what the kiosk
sends, answers like the contract says (a version per registration), and can be told to refuse. Plus two
helpers of the service tests."""
from __future__ import annotations

import pytest

from dakoku_core.errors import KioskError
from kiosk.ports.recorder_api import RegisteredFinger


def employee(fp, code: str):
    return fp._master.employee_by_code_or_login(code)


def error_of(fn, *args, **kwargs) -> KioskError:
    with pytest.raises(KioskError) as info:
        fn(*args, **kwargs)
    return info.value


class FakeFingerprintServer:
    def __init__(self):
        self.online = True
        self.version = 100
        self.registered: dict[tuple[str, int], list[bytes]] = {}
        self.deleted: list[tuple[str, int]] = []
        self.calls: list[str] = []
        self.refusal: KioskError | None = None    # raised by the next register/delete call

    def _refuse(self) -> None:
        refusal, self.refusal = self.refusal, None
        if refusal is not None:
            raise refusal

    def register_fingerprint(self, employee_key, finger, templates, situation=None):
        self.calls.append("register")
        self._refuse()
        self.version += 1
        if finger is None:     # like the server: a new finger gets the employee's lowest free number
            finger = min(set(range(10)) - {f for k, f in self.registered if k == employee_key})
        self.registered[(employee_key, finger)] = list(templates)
        return RegisteredFinger(finger, self.version)

    def delete_fingerprint(self, employee_key, finger, situation=None):
        self.calls.append("delete")
        self._refuse()
        self.deleted.append((employee_key, finger))
        return self.registered.pop((employee_key, finger), None) is not None

    def finger_outside_scope(self, code, situation=None):
        """The server's answer for an unmatched finger: ``outside_scope`` (True), or it refuses like the others."""
        self.calls.append("identify")
        self._refuse()
        return self.outside_scope

    outside_scope = False

    def refresh(self) -> None:
        self.calls.append("refresh")
