"""The demo's fingers: a few demo employees get a synthetic finger enrolled at start, so the demo panel's
"finger" buttons punch. Synthetic finger ``n`` is the simulated sensor's master seed ``DEMO_SEED_BASE + n``;
growing a master costs about 0.3–1 s, so at most three employees are enrolled, in the background, and only
once per data folder (the sealed templates stay in the ledger). The connected demo registers them with its server
like a manager would (once the kiosk is online); the offline demo, which has no server, stores them locally."""
from __future__ import annotations

import logging
import threading
import time

from dakoku_core.errors import KioskError
from kiosk.ports import MasterData

log = logging.getLogger(__name__)

# employee code -> synthetic finger; "" is a finger nobody enrolled
DEMO_FINGERS = (("1001", 1), ("1002", 2), ("1006", 6))
UNKNOWN_FINGER = 9
ENROL_IMPRESSIONS = range(100, 104)   # apart from the panel's placements, which count from 0


def demo_finger_buttons(limit: int = 3) -> list[tuple[str, int]]:
    """(employee code or "", synthetic finger) for the demo panel."""
    return list(DEMO_FINGERS[:limit]) + [("", UNKNOWN_FINGER)]


def enrol_demo_fingers(service, master: MasterData, limit: int = 3, *, wait: float = 30.0,
                       stop: threading.Event | None = None) -> int:
    """Enrol the demo employees' synthetic fingers (skipping those already enrolled); returns how many."""
    sensor = service.sensor
    if not hasattr(sensor, "impression"):
        return 0
    stop = stop or threading.Event()
    deadline = time.monotonic() + wait
    enrolled = 0
    for code, finger in DEMO_FINGERS[:limit]:
        employee = master.employee_by_code_or_login(code)
        while employee is None and time.monotonic() < deadline and not stop.wait(0.5):
            employee = master.employee_by_code_or_login(code)   # the connected demo pulls its data first
        if stop.is_set():
            break
        if employee is None or service.store.fingers_of(employee.key):
            continue
        templates = [service.extractor.extract(sensor.impression(finger, j)) for j in ENROL_IMPRESSIONS]
        try:
            if service.has_server:
                _wait_online(service, deadline, stop)
                service.enrol_templates(employee, templates)
            else:
                service.enrol_local(employee, templates)
            enrolled += 1
        except KioskError as error:
            log.warning("demo finger %s of %s not enrolled: %s", finger, code, error)
    return enrolled


def _wait_online(service, deadline: float, stop: threading.Event) -> None:
    while time.monotonic() < deadline and not stop.is_set():
        try:
            service.available()
            return
        except KioskError:
            stop.wait(0.5)
