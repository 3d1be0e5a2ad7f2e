"""Self-diagnosis (自己診断): one list of checks, each ok / fail / skipped with the catalogue key whose
remedy explains a failure. Device checks come from the adapters through plain callables."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Protocol

from dakoku_core.errors import KioskError
from dakoku_core.i18n import Text, text, tr
from kiosk.ports import ClientProvider, Clock

OK, FAIL, SKIPPED = "ok", "fail", "skipped"


class Check(Protocol):
    name: str
    label: Text
    detail: str
    remedy_key: str | None

    @property
    def ok(self) -> bool: ...


@dataclass(frozen=True)
class CheckLine:
    name: str
    outcome: str
    label: Text
    detail: str = ""
    remedy_key: str | None = None
    data: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.outcome == OK


# Which server check a failure of GET /v1/time belongs to (the rest are "connection").
_CERTIFICATE_KEYS = {"certificate_invalid", "certificate_invalid_local"}
_IP_KEYS = {"ip_not_allowed"}
CLOCK_TOLERANCE = 60.0   # seconds: beyond this the kiosk clock is "off" (the server refuses beyond its window)


def server_checks(client, kiosk_offset: float) -> list[CheckLine]:
    """Design §1's server checks from one signed GET /v1/time: reachability, certificate, IP allow-list and
    the clock offset. ``client`` is None when no connection is configured."""
    names = ("server", "certificate", "ip_allow", "clock_offset")
    if client is None:
        return [CheckLine(n, SKIPPED, text(f"check.{n}"), text("connection.none").get()) for n in names]
    try:
        answer = client.server_time(situation=None)
    except KioskError as error:
        failed = ("certificate" if error.key in _CERTIFICATE_KEYS else
                  "ip_allow" if error.key in _IP_KEYS else "server")
        lines = []
        for name in names:
            if name == failed:
                lines.append(CheckLine(name, FAIL, text(f"check.{name}"), _describe(error), error.key))
            elif names.index(name) < names.index(failed):
                lines.append(CheckLine(name, OK, text(f"check.{name}")))
            else:
                lines.append(CheckLine(name, SKIPPED, text(f"check.{name}")))
        return lines
    drift = answer.offset - kiosk_offset   # what the kiosk's corrected clock is still off by
    clock_ok = abs(drift) <= CLOCK_TOLERANCE
    return [CheckLine("server", OK, text("check.server")), CheckLine("certificate", OK, text("check.certificate")),
            CheckLine("ip_allow", OK, text("check.ip_allow")),
            CheckLine("clock_offset", OK if clock_ok else FAIL, text("check.clock_offset"),
                      text("check.clock_offset_value").format(seconds=f"{round(drift, 1) + 0.0:+.1f}"),   # no "-0.0"
                      None if clock_ok else "auth_failed", {"drift": drift})]


def fingerprint_check(service, startup_error: KioskError | None) -> CheckLine:
    """The sensor line of 自己診断: which device, and the enrolled fingers of this recorder against the limit
    (over it, every finger punch answers 認証可能な最大人数を超えています: the remedy says what to do)."""
    label = text("check.sensor")
    error = startup_error if service is None else service.sensor_error
    if service is None or error is not None:
        error = error or KioskError("device_init_failed")
        return CheckLine("sensor", FAIL, label, _describe(error), "device_init_failed")
    device, patterns, limit = service.usage()
    detail = text("check.sensor_value").format(device=device or "—", patterns=patterns, limit=limit)
    if patterns > limit:
        return CheckLine("sensor", FAIL, label, detail, "too_many_patterns")
    return CheckLine("sensor", OK, label, detail)


NAMED_PAIRS = 3          # look-alike pairs named in the line; the rest counted
MUCH_STRICTER_DB = 30.0  # the gallery's own strangers raise a match by this much or more: 異常 (fitted kinds of print
                         # raise it by 0-21 dB, those the matcher hardly separates by 63-140: docs/fingerprint.md)


def fingerprint_match_check(service) -> CheckLine:
    """The matching line of 自己診断: whether the gallery's own strangers (its self-check) decide as well as the
    table, how much stricter that makes a match here, and the finger pairs the kiosk would take for one finger
    (one finger enrolled for two employees, or two very alike): a punch with either may answer 一致率の高い複数の
    従業員… (``data["error"]``); the line says what the manager can do (the catalogue's remedy speaks to the
    employee at the sensor, so it is not appended here)."""
    label = text("check.match")
    state = service.self_check_state()
    if state.check is None:
        key = "check.match_running" if state.running else "check.match_table"
        return CheckLine("fingerprint_match", OK, label, tr(key))
    if state.alike:
        named = [tr("check.match_pair", first=_finger_of(a, fa), second=_finger_of(b, fb))
                 for a, fa, b, fb in state.alike[:NAMED_PAIRS]]
        if len(state.alike) > NAMED_PAIRS:
            named.append(tr("check.match_more", count=len(state.alike) - NAMED_PAIRS))
        return CheckLine("fingerprint_match", FAIL, label,
                         tr("check.match_alike", pairs=tr("check.match_separator").join(named)), None,
                         {"alike": len(state.alike), "error": "fingerprint_ambiguous_contact_admin"})
    data = {"raised_db": state.raised_db}
    if state.raised_db >= MUCH_STRICTER_DB:       # a kind of print this matcher hardly separates: most punches fail
        return CheckLine("fingerprint_match", FAIL, label, tr("check.match_much_stricter", pairs=state.check.pairs),
                         None, data)
    key = "check.match_stricter" if state.raised_db >= 1.0 else "check.match_as_table"
    detail = tr(key, pairs=state.check.pairs)
    if state.running:
        detail += tr("check.match_again")
    return CheckLine("fingerprint_match", OK, label, detail, None, data)


def _finger_of(employee, finger: int) -> str:
    who = tr("check.match_gone") if employee is None else \
        tr("check.match_employee", name=f"{employee.last_name} {employee.first_name}", code=employee.code)
    return who + tr("registration.finger_label", number=finger + 1)


def _describe(error: KioskError) -> str:
    code = f"[{error.code}] " if error.code else ""
    return f"{code}{error.message()}"


class DiagnoseService:
    def __init__(self, ledger_check: Callable[[], str], clock: Clock, reader_checks: Callable[[bool], list] | None,
                 client: ClientProvider = lambda: None,
                 device_checks: Callable[[], list] = lambda: []):
        self._ledger_check = ledger_check   # returns SQLite's quick_check verdict ("ok" or the problems)
        self._clock = clock
        self._reader_checks = reader_checks
        self._client = client
        self._device_checks = device_checks   # e.g. the fingerprint sensor line

    def run(self, *, test_read: bool = False) -> list:
        lines: list = []
        verdict = self._safe(self._ledger_check)
        lines.append(CheckLine("ledger", OK if verdict == "ok" else FAIL, text("check.ledger"),
                               "" if verdict == "ok" else verdict, None if verdict == "ok" else "punch_record_failed"))
        reading = self._clock.read()
        lines.append(CheckLine("clock", FAIL if reading.adjusting else OK, text("check.clock"),
                               text(f"source.{reading.source.value}").get(),
                               "auth_failed" if reading.adjusting else None))
        lines.extend(server_checks(self._client(), self._clock.offset.total_seconds()))
        if self._reader_checks is not None:
            lines.extend(self._reader_checks(test_read))
        lines.extend(self._device_checks())
        return lines

    @staticmethod
    def _safe(check: Callable[[], str]) -> str:
        try:
            return check()
        except Exception as exc:  # noqa: BLE001 - a diagnosis reports problems, it does not raise them
            return f"{type(exc).__name__}: {exc}"
