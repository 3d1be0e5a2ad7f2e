"""The punch upload's write transaction: per employee on PostgreSQL, not one at a time for the whole server.

What a punch batch needs to be serialised against is another batch of *the same employees*: the
re-authentication interval and the sequence checks read the employee's earlier punches, and a kiosk that
re-sends a batch while its first try is still being judged must find that try's rows. UUIDs need no lock: the
unique index (company, uuid) decides, and the INSERT (dakoku_server.punch_insert) reports a clash, after which the
batch is judged again punch by punch.

So on PostgreSQL :func:`punch_transaction` takes one transaction-scoped advisory lock per employee named in the
batch (the two-key form: ``PUNCH_LOCK_CLASS`` and a 32-bit hash of company id and employee key; a hash collision
only makes two employees wait for each other), all in one statement and in ascending key order, so two batches
never wait on each other in a cycle. The locks are taken before the batch's first read: under READ COMMITTED
every later statement sees what the previous holder committed. The global write lock (dakoku_server.db
``write_transaction``) is not taken: admin and registration writes keep it, and do not block uploads.
On SQLite there is one writer anyway: ``write_transaction`` (``BEGIN IMMEDIATE``).
Measured with the 200-kiosk load test (docs/server.md, §Scale).
"""
from __future__ import annotations

import zlib
from contextlib import contextmanager
from typing import Iterable, Iterator

import peewee as pw

from dakoku_server.db import database, write_transaction

PUNCH_LOCK_CLASS = 0x44616B70          # "Dakp"; the two-key advisory lock space is apart from the one-key one
_LOCK_SQL = ("SELECT count(pg_advisory_xact_lock(%s, k)) "
             "FROM (SELECT DISTINCT k FROM unnest(%s::int4[]) AS k ORDER BY k) AS ordered")


def employee_lock_keys(company_id: int, employee_keys: Iterable[object]) -> list[int]:
    """Sorted distinct signed 32-bit lock keys of the batch's employees (non-text keys are skipped: such an
    item is refused as malformed and reads nothing)."""
    keys = set()
    for key in employee_keys:
        if isinstance(key, str):
            value = zlib.crc32(f"{company_id}:{key}".encode("utf-8", "surrogatepass"))
            keys.add(value - (1 << 32) if value >= 1 << 31 else value)
    return sorted(keys)


def batch_employee_keys(items: list) -> list[object]:
    return [item.get("employee_key") for item in items if isinstance(item, dict)]


@contextmanager
def punch_transaction(company_id: int, items: list) -> Iterator[object]:
    """The transaction a punch batch (``items`` as sent) is judged and stored in."""
    db = database.obj
    if not isinstance(db, pw.PostgresqlDatabase):
        with write_transaction() as txn:
            yield txn
        return
    with db.atomic() as txn:
        keys = employee_lock_keys(company_id, batch_employee_keys(items))
        if keys:
            db.execute_sql(_LOCK_SQL, (PUNCH_LOCK_CLASS, keys))
        yield txn
