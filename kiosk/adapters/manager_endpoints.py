"""The Recorder API calls of the manager's pages (設定 › 認証情報, 出勤状況), mixed into
:class:`kiosk.adapters.recorder_client.KioskRecorderClient` so they share its retries and error translation. An
answer is checked whole: anything without the documented shape is ``server_error`` (007)."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Callable
from urllib.parse import quote

from kiosk.adapters.master_payload import _Shape, _get, _list, _text
from dakoku_core.domain.model import PunchKind
from dakoku_core.errors import KioskError, Situation
from kiosk.ports.recorder_api import EmployeeCredentials, EnrolledFinger, RegisteredCard
from kiosk.ports.recorder_api import LastPunch

REG = Situation.REGISTRATION


def _when(obj: object, name: str) -> datetime | None:
    text = _text(obj, name, optional=True)
    if not text:
        return None
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if value.tzinfo is None:
        raise _Shape(f"{name!r} has no time zone")
    return value.astimezone(timezone.utc)


def credentials_from_payload(body: object, situation: Situation | None) -> EmployeeCredentials:
    try:
        cards = tuple(RegisteredCard(_text(c, "ref"), _when(c, "registered_at"),
                                     _text(c, "recorder_code", optional=True), _text(c, "recorder_name", optional=True))
                      for c in _list(body, "cards"))
        fingers = tuple(EnrolledFinger(_finger(f), _when(f, "registered_at")) for f in _list(body, "fingers"))
    except (_Shape, ValueError, TypeError) as exc:
        raise KioskError("server_error", situation=situation, detail=f"credentials: {exc}"[:300]) from None
    return EmployeeCredentials(None, cards, fingers)


def presence_from_payload(body: object, situation: Situation | None) -> list[LastPunch]:
    try:
        return [LastPunch(_text(e, "employee_key"), PunchKind(_text(e, "kind")), _when(e, "stamped_at") or _missing(),
                          _when(e, "clock_in_at"), "server") for e in _list(body, "employees")]
    except (_Shape, ValueError, TypeError) as exc:
        raise KioskError("server_error", situation=situation, detail=f"presence: {exc}"[:300]) from None


def _finger(obj: object) -> int:
    number = _get(obj, "finger", int)
    if not 0 <= number <= 9:
        raise _Shape("finger outside 0-9")
    return number


def _missing() -> datetime:
    raise _Shape("missing 'stamped_at'")


class ManagerEndpoints:
    """Needs ``_call``, ``_json`` and ``_guard`` of the client it is mixed into."""

    _call: Callable
    _json: Callable
    _guard: Callable

    def employee_credentials(self, employee_key: str, situation: Situation | None = REG) -> EmployeeCredentials:
        """GET /v1/employees/<key>/credentials: the employee's cards and fingers (in scope, else 403 cause C)."""
        def run() -> EmployeeCredentials:
            path = f"v1/employees/{quote(employee_key, safe='')}/credentials"
            return credentials_from_payload(self._json(self._call("GET", path, situation), situation), situation)
        return self._guard(run, situation)

    def delete_employee_card(self, employee_key: str, ref: str, situation: Situation | None = REG) -> bool:
        """DELETE /v1/employees/<key>/credentials/card/<ref>; False when the employee holds no such card."""
        def run() -> bool:
            path = f"v1/employees/{quote(employee_key, safe='')}/credentials/card/{quote(ref, safe='')}"
            answer = self._json(self._call("DELETE", path, situation), situation)
            return bool(isinstance(answer, dict) and answer.get("deleted"))
        return self._guard(run, situation)

    def presence(self, situation: Situation | None = None) -> list[LastPunch]:
        """GET /v1/presence: today's last punch of each employee of the recorder's scope. One try: the manager
        is looking at the screen, and the ledger's view stands without it."""
        def run() -> list[LastPunch]:
            response = self._call("GET", "v1/presence", situation, attempts=1)
            return presence_from_payload(self._json(response, situation), situation)
        return self._guard(run, situation)
