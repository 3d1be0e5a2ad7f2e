"""Self-diagnosis (自己診断): one list of checks, each ok / fail / skipped with the catalogue key whose
remedy explains a failure. Device checks come from the adapters through plain callables."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Protocol

from kiosk.i18n import Text, text

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


class DiagnoseService:
    def __init__(self, ledger_check: Callable[[], str], clock, reader_checks: Callable[[bool], list] | None):
        self._ledger_check = ledger_check   # returns SQLite's quick_check verdict ("ok" or the problems)
        self._clock = clock
        self._reader_checks = reader_checks

    def run(self, *, test_read: bool = False) -> list:
        lines: list = []
        verdict = self._safe(self._ledger_check)
        lines.append(CheckLine("ledger", OK if verdict == "ok" else FAIL, text("check.ledger"),
                               "" if verdict == "ok" else verdict, None if verdict == "ok" else "punch_record_failed"))
        reading = self._clock.read()
        lines.append(CheckLine("clock", FAIL if reading.adjusting else OK, text("check.clock"),
                               text(f"source.{reading.source.value}").get(),
                               "auth_failed" if reading.adjusting else None))
        if self._reader_checks is not None:
            lines.extend(self._reader_checks(test_read))
        return lines

    @staticmethod
    def _safe(check: Callable[[], str]) -> str:
        try:
            return check()
        except Exception as exc:  # noqa: BLE001 - a diagnosis reports problems, it does not raise them
            return f"{type(exc).__name__}: {exc}"
