"""取り消し on the server (issue 12): correction items of POST /v1/punches (kind ``cancel``, schema
dakoku_core.protocol.schemas.CORRECTION), judged with the shared rule dakoku_core.domain.rules.check_correction.

A correction is stored as a row of its own (dakoku_server.db.Correction), idempotent by its UUID (a re-sent one
answers ``duplicate`` with its ``recorded_status``); the punch's row is never changed. It is accepted when the
punch it names is known (stored, or earlier in the same batch), was made by the same recorder of the same
company for the same employee, and the correction is stamped within the undo window of the punch's stamp
(``UNDO_SECONDS_MAX``, the most a kiosk may offer, plus ``UNDO_GRACE``). Otherwise it is kept as ``rejected``
with ``correction_refused`` (A: no such punch of this recorder and employee, or already cancelled; B: outside
the window) and the kiosk lists it under 送信エラー. An accepted correction makes its punch count as not made:
the re-authentication rule skips it (:func:`not_cancelled`) and the timecard strikes it through.

A correction arriving before its punch (in an earlier batch) is refused (A, reason ``punch_not_found``), not
kept for later: accepting it unseen would tell the kiosk "done" before the window could be checked, and a
later refusal could no longer reach the kiosk. A kiosk never sends one before its punch: the outbox uploads in
the order entries were made (``seq``), so only a non-conforming client meets this refusal.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import jsonschema
import peewee as pw

from dakoku_core.domain.model import CANCEL
from dakoku_core.domain.rules import UNDO_SECONDS_MAX, check_correction
from dakoku_core.errors import KioskError
from dakoku_core.protocol.error_body import error_body
from dakoku_core.protocol.schemas import CORRECTION
from dakoku_server.api_base import schema_error_reason
from dakoku_server.db import Company, Correction, Punch
from dakoku_server.punch_items import invalid
from dakoku_server.punch_judging import duplicate_result
from dakoku_server.punch_times import naive_utc, out_of_range, parse_stamp

_VALIDATOR = jsonschema.Draft202012Validator(CORRECTION, format_checker=jsonschema.FormatChecker())
WINDOW = timedelta(seconds=UNDO_SECONDS_MAX)
UNPARSEABLE_STAMP = "stamped_at: not ISO 8601 with an offset"     # never the parser's message: it quotes the text


def is_correction(item: object) -> bool:
    return isinstance(item, dict) and item.get("kind") == CANCEL


def not_cancelled(comp: Company) -> pw.Expression:
    """A condition on ``Punch``: no accepted correction of this company names it (the punch counts)."""
    return ~pw.fn.EXISTS(Correction.select(Correction.id).where(
        (Correction.company == comp) & (Correction.cancels == Punch.uuid) & (Correction.status == "accepted")))


def _refused(uuid: str, error: KioskError, reason: str) -> dict:
    return {"uuid": uuid, "status": "rejected", "error": error_body(error, reason)["error"]}


class BatchCorrections:
    """The correction items of one batch, judged before its punches are (so a punch cancelled in the batch
    does not count for the re-authentication rule of the punches after it). Fills ``results`` for them;
    :meth:`store` inserts their rows (call it after the batch's punches are inserted)."""

    def __init__(self, comp: Company, recorder, items: list, results: list, tz: ZoneInfo, received: datetime,
                 window_seconds: int):
        self.cancelled: set[str] = set()      # punch UUIDs that accepted corrections of this batch cancel
        self.rows: list[dict] = []
        self._comp, self._recorder, self._tz = comp, recorder, tz
        self._received, self._window = received, window_seconds
        todo = [n for n, item in enumerate(items) if is_correction(item)]
        if not todo:
            return
        wanted = {items[n].get("cancels") for n in todo} | {items[n].get("uuid") for n in todo}
        wanted = [w for w in wanted if isinstance(w, str)]
        self._stored = {row[0]: row for row in Correction.select(
            Correction.uuid, Correction.status, Correction.error_key, Correction.error_cause).where(
            (Correction.company == comp) & Correction.uuid.in_(wanted)).tuples()}
        self._done = {c for (c,) in Correction.select(Correction.cancels).where(   # punches already cancelled
            (Correction.company == comp) & Correction.cancels.in_(wanted) & (Correction.status == "accepted"))
            .tuples()}
        self._punches = {row[0]: row[1:] for row in Punch.select(
            Punch.uuid, Punch.employee_key, Punch.recorder, Punch.stamped_utc).where(
            (Punch.company == comp) & Punch.uuid.in_(wanted)).tuples()}
        earlier: dict[str, dict] = {}         # punch items of this batch before each correction
        for n, item in enumerate(items):
            if is_correction(item):
                results[n] = self._judge(item, earlier)
            elif isinstance(item, dict) and isinstance(item.get("uuid"), str) and invalid(item, recorder) is None:
                earlier.setdefault(item["uuid"], item)

    def _judge(self, item: dict, earlier: dict[str, dict]) -> dict:
        uuid = str(item.get("uuid", ""))
        problem = jsonschema.exceptions.best_match(_VALIDATOR.iter_errors(item))
        if problem is not None or item.get("recorder_code", self._recorder.code) != self._recorder.code:
            # where and which rule, never jsonschema's message: it quotes the value
            reason = schema_error_reason(problem) if problem is not None else "recorder_code does not match the key"
            return _refused(uuid, KioskError("unexpected"), f"invalid_correction: {reason}")
        if uuid in self._stored:
            return duplicate_result(*self._stored[uuid])
        try:
            stamped = parse_stamp(item["stamped_at"])
        except ValueError:
            return _refused(uuid, KioskError("unexpected"), f"invalid_correction: {UNPARSEABLE_STAMP}")
        error = self._refusal(item, stamped, earlier)
        self._stored[uuid] = (uuid, "rejected" if error else "accepted", error.key if error else "",
                              (error.cause_letter or "") if error else "")
        self.rows.append({
            "uuid": uuid, "company": self._comp.id, "recorder": self._recorder.id,
            "employee_key": item["employee_key"], "cancels": item["cancels"], "stamped_at": item["stamped_at"],
            "stamped_utc": naive_utc(stamped), "time_source": item["time_source"], "offline": item["offline"],
            "status": self._stored[uuid][1], "error_key": self._stored[uuid][2],
            "error_cause": self._stored[uuid][3]})
        if error is not None:
            return _refused(uuid, error, error.detail if error.detail.isidentifier() else "")
        self.cancelled.add(item["cancels"])
        self._done.add(item["cancels"])
        return {"uuid": uuid, "status": "accepted"}

    def _refusal(self, item: dict, stamped: datetime, earlier: dict[str, dict]) -> KioskError | None:
        """Why this well-formed, new correction is refused, or None."""
        future = out_of_range(stamped, None, self._tz, self._received, self._window)
        if future is not None:
            return future
        target = item["cancels"]
        if target in earlier:
            punch = earlier[target]
            owner, recorder_id = punch["employee_key"], self._recorder.id
            try:
                punch_at = parse_stamp(punch["stamped_at"])
            except ValueError:
                return KioskError("correction_refused", cause_letter="A", detail="punch_not_found")
        elif target in self._punches:
            owner, recorder_id, at = self._punches[target]
            punch_at = at.replace(tzinfo=timezone.utc)
        else:
            return KioskError("correction_refused", cause_letter="A", detail="punch_not_found")
        if recorder_id != self._recorder.id or owner != item["employee_key"]:
            return KioskError("correction_refused", cause_letter="A", detail="punch_of_another")
        if target in self._done:
            return KioskError("correction_refused", cause_letter="A", detail="already_cancelled")
        try:
            check_correction(punch_at, stamped, WINDOW)
        except KioskError as exc:
            exc.detail = "outside_undo_window"
            return exc
        return None

    def store(self) -> None:
        """Insert the rows judged (inside the caller's write transaction)."""
        for start in range(0, len(self.rows), 200):
            Correction.insert_many(self.rows[start:start + 200]).execute()


def store_one(comp: Company, recorder, item: dict, tz: ZoneInfo, received: datetime, window_seconds: int) -> dict:
    """One correction on the punch-by-punch path (after a unique-constraint race): judged and stored alone."""
    results: list = [None]
    batch = BatchCorrections(comp, recorder, [item], results, tz, received, window_seconds)
    try:
        with Correction._meta.database.atomic():
            batch.store()
    except pw.IntegrityError:
        row = Correction.get((Correction.company == comp) & (Correction.uuid == item["uuid"]))
        return duplicate_result(row.uuid, row.status, row.error_key, row.error_cause)
    return results[0]
