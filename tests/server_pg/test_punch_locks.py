"""Punch uploads lock per employee on PostgreSQL (dakoku_server/punch_locks.py), not the whole server: while one
batch's transaction is open, a batch of other employees goes through, and a batch of the same employee waits and
then sees the first one's punch. The connection pool (dakoku_server/db_pool.py) hands a connection back and out
again instead of opening one per request."""
from __future__ import annotations

import threading

import pytest

from dakoku_server.api_punches import store_punches
from dakoku_server.db import Company, Recorder, database, write_transaction
from dakoku_server.db_pool import pooled_url
from dakoku_server.punch_locks import employee_lock_keys, punch_transaction
from tests.server.test_punches import punch

pytestmark = pytest.mark.timeout(120)


def _hold_then(first: dict, second: dict, comp, recorder) -> tuple[bool, dict]:
    """Store ``first`` in an open punch transaction; meanwhile store ``second`` from another thread.
    (whether the second finished while the first was still open, the answers)"""
    stored, release, answers = threading.Event(), threading.Event(), {}

    def hold() -> None:
        try:
            with punch_transaction(comp.id, [first]):
                answers["first"] = store_punches(comp, recorder, [first])[0]
                stored.set()
                release.wait(15)
        finally:
            database.close()

    def follow() -> None:
        try:
            answers["second"] = store_punches(comp, recorder, [second])[0]
        finally:
            database.close()

    holder = threading.Thread(target=hold)
    holder.start()
    assert stored.wait(15)
    follower = threading.Thread(target=follow)
    follower.start()
    follower.join(3.0)
    finished_meanwhile = not follower.is_alive()
    release.set()
    holder.join(15)
    follower.join(15)
    return finished_meanwhile, answers


def test_another_employees_batch_does_not_wait(server, employees, stamp):
    comp = Company.get(Company.code == "DEMO")
    recorder = Recorder.get((Recorder.company == comp) & (Recorder.code == "R001"))
    first, second = punch(employees["1001"], stamp(71, 9, 0, 0)), punch(employees["1003"], stamp(71, 9, 0, 5))
    finished_meanwhile, answers = _hold_then(first, second, comp, recorder)
    assert finished_meanwhile, "a batch of another employee waited for an unrelated upload"
    assert answers["first"]["status"] == answers["second"]["status"] == "accepted"


def test_the_same_employees_batch_waits_and_sees_the_first(server, employees, stamp):
    comp = Company.get(Company.code == "DEMO")
    recorder = Recorder.get((Recorder.company == comp) & (Recorder.code == "R001"))
    first, second = (punch(employees["1002"], stamp(72, 9, 0, s)) for s in (0, 10))
    finished_meanwhile, answers = _hold_then(first, second, comp, recorder)
    assert not finished_meanwhile, "the second batch of the same employee did not wait"
    assert answers["first"]["status"] == "accepted"
    assert (answers["second"]["status"], answers["second"]["error"]["key"]) == ("rejected", "already_punched")


def test_admin_writes_do_not_hold_up_punches(server, employees, stamp):
    """The global write lock (admin, registration) and the punch locks are apart."""
    comp = Company.get(Company.code == "DEMO")
    recorder = Recorder.get((Recorder.company == comp) & (Recorder.code == "R001"))
    done = threading.Event()

    def upload() -> None:
        try:
            store_punches(comp, recorder, [punch(employees["1005"], stamp(73))])
            done.set()
        finally:
            database.close()

    with write_transaction():
        uploader = threading.Thread(target=upload)
        uploader.start()
        assert done.wait(10), "a punch upload waited for the global write lock"
    uploader.join(10)


def test_lock_keys_are_per_company_and_employee_sorted_and_distinct():
    keys = employee_lock_keys(1, ["b", "a", "b", None, 7])
    assert keys == sorted(keys) and len(keys) == 2
    assert all(-(1 << 31) <= k < (1 << 31) for k in keys)
    assert employee_lock_keys(2, ["a"]) != employee_lock_keys(1, ["a"])


def test_pool_reuses_the_connection(server):
    db = database.obj
    assert "+pool" in pooled_url(server.db_url) and hasattr(db, "close_all")
    database.close()
    database.connect()
    first = id(database.connection())
    database.close()                       # back to the pool
    database.connect()
    assert id(database.connection()) == first
    database.close()
