"""NFCポート自己診断: check the PC/SC card reader chain step by step, for ``kiosk doctor`` and settings.

Checks, in order (a failed step skips the ones that depend on it):
1. ``pcsc_service``: the PC/SC service (pcscd) answers.
2. ``readers_found``: it lists at least one reader.
3. ``configured_reader``: a reader matches the configured name pattern.
4. ``test_read`` (optional): a card tapped within ``tap_timeout`` is read: ATR, card type, masked ID,
   read time. A random (rotating) UID fails with the remedy of ``card_id_unstable``.
Every failure names the catalogue key whose remedy (対処方法) the UI shows. Runs on the caller's thread
and blocks up to ``tap_timeout`` for the test read: call it off the UI thread.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from enum import Enum

from kiosk.adapters import pcsc_calls as pcsc
from dakoku_core.domain.credentials import masked_card_id
from dakoku_core.i18n import Text


class CheckOutcome(str, Enum):
    OK = "ok"
    FAIL = "fail"
    SKIPPED = "skipped"


@dataclass(frozen=True)
class CheckResult:
    name: str                      # stable: pcsc_service, readers_found, configured_reader, test_read
    outcome: CheckOutcome
    label: Text                    # what was checked (ja / en)
    detail: str = ""               # what was found, for the details pane and the log; never matched on
    remedy_key: str | None = None  # catalogue key whose cause / remedy explain a failure
    data: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.outcome is CheckOutcome.OK


LABELS = {
    "pcsc_service": Text("PC/SCサービス(pcscd)への接続", "Connection to the PC/SC service (pcscd)"),
    "readers_found": Text("ICカードリーダーの検出", "IC card readers found"),
    "configured_reader": Text("設定されたICカードリーダー", "The configured IC card reader"),
    "test_read": Text("ICカードの読み取りテスト", "Test read of an IC card"),
}
NAMES = tuple(LABELS)


def _result(name: str, outcome: CheckOutcome, detail: str = "", remedy_key: str | None = None,
            **data) -> CheckResult:
    return CheckResult(name, outcome, LABELS[name], detail, remedy_key, data)


def diagnose_readers(reader_pattern: str = pcsc.DEFAULT_READER_PATTERN, *, test_read: bool = False,
                     tap_timeout: float = 15.0, cancel: threading.Event | None = None) -> list[CheckResult]:
    """Run the checks; never raises for reader trouble (each failure is a result)."""
    results: list[CheckResult] = []
    try:
        pcsc.require_backend()
        context = pcsc.establish_context()
    except Exception as exc:  # KioskError (no pyscard) or ServiceLost (no pcscd)
        results.append(_result("pcsc_service", CheckOutcome.FAIL, _describe(exc), "device_init_failed"))
        return _skip_rest(results, test_read)
    try:
        results.append(_result("pcsc_service", CheckOutcome.OK))
        results.extend(_reader_checks(context, reader_pattern, test_read, tap_timeout, cancel))
    finally:
        pcsc.release_context(context)
    return _skip_rest(results, test_read)


def _reader_checks(context: int, pattern: str, test_read: bool, tap_timeout: float,
                   cancel: threading.Event | None) -> list[CheckResult]:
    try:
        names = pcsc.reader_names(context)
    except pcsc.ServiceLost as exc:
        return [_result("readers_found", CheckOutcome.FAIL, str(exc), "device_init_failed")]
    if not names:
        return [_result("readers_found", CheckOutcome.FAIL, "pcscd lists no reader", "device_init_failed")]
    results = [_result("readers_found", CheckOutcome.OK, ", ".join(names), readers=tuple(names))]
    reader = pcsc.pick_reader(names, pattern)
    if reader is None:
        results.append(_result("configured_reader", CheckOutcome.FAIL,
                               f"no reader matches {pattern!r}", "device_init_failed", readers=tuple(names)))
        return results
    results.append(_result("configured_reader", CheckOutcome.OK, reader, reader=reader))
    if test_read:
        results.append(_test_read(context, reader, tap_timeout, cancel or threading.Event()))
    return results


def _test_read(context: int, reader: str, tap_timeout: float, cancel: threading.Event) -> CheckResult:
    try:
        if not _wait_for_card(context, reader, tap_timeout, cancel):
            why = "cancelled" if cancel.is_set() else f"no card was tapped within {tap_timeout:.0f} s"
            return _result("test_read", CheckOutcome.SKIPPED, why)
        started = time.monotonic()
        read = pcsc.read_uid(context, reader)
        read_ms = (time.monotonic() - started) * 1000
    except (pcsc.ServiceLost, pcsc.ReaderLost) as exc:
        return _result("test_read", CheckOutcome.FAIL, str(exc), "reader_disconnected")
    card_type = pcsc.card_type_from_atr(read.atr).value if read.atr else ""
    data = {"atr": read.atr.hex(" ").upper(), "card_type": card_type, "read_ms": round(read_ms, 1)}
    if not read.ok:
        return _result("test_read", CheckOutcome.FAIL, read.failure, "card_read_failed", **data)
    data["card_id"] = masked_card_id(read.card_id)
    if pcsc.looks_random_uid(read.card_id):
        return _result("test_read", CheckOutcome.FAIL, "the card presents a random ID (changes on every tap)",
                       "card_id_unstable", **data)
    return _result("test_read", CheckOutcome.OK, f"{card_type} {data['card_id']} in {read_ms:.1f} ms", **data)


def _wait_for_card(context: int, reader: str, timeout: float, cancel: threading.Event) -> bool:
    """True once a card is present (one already lying on the reader counts); False on timeout/cancel."""
    deadline = time.monotonic() + timeout
    state = pcsc.STATE_UNAWARE
    while not cancel.is_set():
        remaining_ms = int((deadline - time.monotonic()) * 1000)
        if remaining_ms <= 0:
            return False
        hresult, states = pcsc.status_change(context, min(remaining_ms, 200), [(reader, state)])
        if hresult in (pcsc.E_TIMEOUT, pcsc.E_CANCELLED):
            continue
        if hresult != pcsc.SUCCESS:
            raise pcsc.ServiceLost(f"waiting for a card: {pcsc.hresult_name(hresult)}")
        state = states[0][1] & ~pcsc.STATE_CHANGED
        if state & pcsc.STATE_PRESENT:
            return True
    return False


def _skip_rest(results: list[CheckResult], test_read: bool) -> list[CheckResult]:
    done = {r.name for r in results}
    return results + [_result(n, CheckOutcome.SKIPPED, "an earlier check failed")
                      for n in NAMES if n not in done and (test_read or n != "test_read")]


def _describe(exc: Exception) -> str:
    return getattr(exc, "detail", "") or str(exc)
