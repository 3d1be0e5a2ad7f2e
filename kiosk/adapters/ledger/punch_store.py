"""The punch outbox: a punch is committed (WAL fsynced) before the confirmation is shown."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import peewee as pw

from kiosk.adapters.ledger.db import LedgerDatabase, translated
from kiosk.adapters.ledger.models import PunchRow
from dakoku_core.domain.model import CANCEL, AuthMethod, Correction, Punch, PunchKind, TimeSource


def to_utc_text(at: datetime) -> str:
    return at.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def from_utc_text(text: str, offset_min: int = 0) -> datetime:
    utc = datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc)
    return utc.astimezone(timezone(timedelta(minutes=offset_min)))


# A punch that counts: not a correction row, and not cancelled by one (取り消し: "as if not made").
_COUNTS = ("kind != 'cancel' AND NOT EXISTS (SELECT 1 FROM punch AS c WHERE c.cancels = punch.uuid)")


class SqlitePunchLedger:
    def __init__(self, ledger: LedgerDatabase):
        self._ledger = ledger

    # The two statements of the punch path are plain SQL through peewee's connection: the query builder
    # costs more than SQLite itself here (benchmarks/punch_path.py).
    _INSERT = ("INSERT INTO punch (uuid, employee_key, kind, stamped_at_utc, utc_offset_min, time_source, "
               "offline, auth_method, recorder_code, created_at_utc, master_version, seq) VALUES (?,?,?,?,?,?,?,?,?,?,?,"
               "(SELECT COALESCE(MAX(seq), 0) + 1 FROM punch))")   # seq: the order made, whatever the clock did
    _LAST = ("SELECT stamped_at_utc, utc_offset_min FROM punch WHERE employee_key = ? AND " + _COUNTS +
             " ORDER BY seq DESC LIMIT 1")
    _INSERT_CORRECTION = (
        "INSERT INTO punch (uuid, employee_key, kind, stamped_at_utc, utc_offset_min, time_source, offline, "
        "auth_method, recorder_code, created_at_utc, cancels, seq) VALUES (?,?,?,?,?,?,?,?,?,?,?,"
        "(SELECT COALESCE(MAX(seq), 0) + 1 FROM punch))")

    def record(self, punch: Punch) -> None:
        offset = punch.stamped_at.utcoffset() or timedelta(0)
        params = (punch.uuid, punch.employee_key, punch.kind.value, to_utc_text(punch.stamped_at),
                  int(offset.total_seconds() // 60), punch.time_source.value, int(punch.offline),
                  punch.auth_method.value, punch.recorder_code, to_utc_text(datetime.now(timezone.utc)),
                  punch.master_version)
        with self._ledger.writing():
            self._ledger.db.execute_sql(self._INSERT, params)

    def record_correction(self, correction: Correction, auth_method: AuthMethod) -> None:
        """取り消し: a row of its own (kind 'cancel', ``cancels`` = the punch's UUID), durable when this returns;
        the punch's row is not touched. A second correction of the same punch is refused by the unique index
        (the caller asks :meth:`correction_for` first)."""
        offset = correction.stamped_at.utcoffset() or timedelta(0)
        params = (correction.uuid, correction.employee_key, CANCEL, to_utc_text(correction.stamped_at),
                  int(offset.total_seconds() // 60), correction.time_source.value, int(correction.offline),
                  auth_method.value, correction.recorder_code, to_utc_text(datetime.now(timezone.utc)),
                  correction.cancels)
        with self._ledger.writing():
            self._ledger.db.execute_sql(self._INSERT_CORRECTION, params)

    @translated
    def correction_for(self, punch_uuid: str) -> Correction | None:
        row = PunchRow.get_or_none(PunchRow.cancels == punch_uuid)
        return _to_punch(row) if row else None

    @translated
    def last_punch_at(self, employee_key: str) -> datetime | None:
        row = self._ledger.db.execute_sql(self._LAST, (employee_key,)).fetchone()
        return from_utc_text(row[0], row[1]) if row else None

    _SINCE = ("SELECT * FROM punch WHERE employee_key = ? AND stamped_at_utc > ? AND sync_state != 'rejected' "
              "AND " + _COUNTS + " ORDER BY stamped_at_utc")

    @translated
    def punches_since(self, employee_key: str, since: datetime) -> list[Punch]:
        """The employee's punches after ``since``, oldest first; those the server refused are not part of the
        record and do not count, nor do cancelled ones (取り消し)."""
        rows = PunchRow.raw(self._SINCE, employee_key, to_utc_text(since))
        return [_to_punch(r) for r in rows]

    @translated
    def refused_summary(self, limit: int) -> tuple[int, list[tuple[Punch, str]]]:
        """Punches the server refused at sync (kept as ``rejected`` with the catalogue key of its reason):
        how many, and the newest ``limit`` of them as (punch, error key). A refused correction (取り消し) is
        one of them too, as a :class:`Correction`."""
        refused = PunchRow.select().where(PunchRow.sync_state == "rejected")
        rows = refused.order_by(PunchRow.stamped_at_utc.desc()).limit(limit) if limit else []
        return refused.count(), [(_to_punch(r), r.last_error) for r in rows]

    @translated
    def recent_punches(self, limit: int) -> list[Punch]:
        """打刻履歴: the newest punches that count (no correction rows, no cancelled punches)."""
        rows = PunchRow.raw("SELECT * FROM punch WHERE " + _COUNTS + " ORDER BY stamped_at_utc DESC LIMIT ?",
                            limit)
        return [_to_punch(r) for r in rows]

    @translated
    def get(self, uuid: str) -> Punch | Correction | None:
        row = PunchRow.get_or_none(PunchRow.uuid == uuid)
        return _to_punch(row) if row else None

    @translated
    def count(self) -> int:
        """Punches made here (corrections are not punches; a cancelled punch is still a row)."""
        return PunchRow.select().where(PunchRow.kind != CANCEL).count()

    @translated
    def pending_summary(self) -> tuple[int, datetime | None]:
        """Unsent punches and when the oldest of them was made (for the status line)."""
        query = PunchRow.select(pw.fn.COUNT(PunchRow.uuid), pw.fn.MIN(PunchRow.stamped_at_utc)).where(
            PunchRow.sync_state == "pending")
        count, oldest = query.scalar(as_tuple=True)
        return count, (from_utc_text(oldest) if oldest else None)


def _to_punch(row: PunchRow) -> Punch | Correction:
    """A ledger row as the domain sees it: a punch, or a correction (kind 'cancel')."""
    if row.kind == CANCEL:
        return Correction(cancels=row.cancels, employee_key=row.employee_key,
                          stamped_at=from_utc_text(row.stamped_at_utc, row.utc_offset_min),
                          time_source=TimeSource(row.time_source), offline=bool(row.offline),
                          recorder_code=row.recorder_code, uuid=row.uuid)
    return Punch(
        uuid=row.uuid, employee_key=row.employee_key, kind=PunchKind(row.kind),
        stamped_at=from_utc_text(row.stamped_at_utc, row.utc_offset_min),
        time_source=TimeSource(row.time_source), offline=bool(row.offline),
        auth_method=AuthMethod(row.auth_method), recorder_code=row.recorder_code,
        master_version=row.master_version,
    )
