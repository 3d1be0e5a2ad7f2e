"""Fingerprints from the server into the ledger: the store's atomic apply (upserts, deletions, full answers, what
is already held), the cached gallery kept consistent, pruning to the recorder's candidates, and the pull step
(since / ETag / scope / clamping to the master data) with a fake client."""
from __future__ import annotations

import sqlite3

import pytest

from dakoku_core.errors import KioskError
from kiosk.services.fingerprint_sync import FingerprintSync
from kiosk.ports.recorder_api import DeletedFinger, FingerprintSnapshot, FingerprintVersion, ServerFinger

from .fake_server import error_of

pytestmark = pytest.mark.timeout(120)
HQ = lambda _key: "HQ"   # noqa: E731 - the binding department of the store tests


def finger(templates, key: str, number: int, version: int, synthetic: int) -> ServerFinger:
    return ServerFinger(key, number, version, tuple(templates(synthetic, 100, 3)))


def snap(version: int, fingers=(), deleted=(), full=False, etag=None) -> FingerprintSnapshot:
    return FingerprintSnapshot(version, etag or f'W/"f{version}"', full, tuple(fingers), tuple(deleted))


def held(store) -> dict:
    rows = store._ledger.db.execute_sql(
        "SELECT employee_key, finger, MIN(id), server_version FROM fingerprint_template GROUP BY employee_key, finger")
    return {(k, f): (row_id, v) for k, f, row_id, v in rows}


def probe(fp, templates, synthetic: int):
    return fp._matcher.encode(templates(synthetic, 0, 1)[0])


def test_a_full_answer_is_sealed_identifies_and_is_remembered(fp, templates, ledger_db):
    store = fp.store
    counts = store.apply_snapshot(snap(10, [finger(templates, "E1001", 0, 5, 1), finger(templates, "E1003", 0, 8, 2)],
                                       full=True), FingerprintVersion(10, 'W/"f10"', "DEMO/R001"), HQ)
    assert (counts.written, counts.removed, counts.unchanged) == (2, 0, 0)
    assert store.held_version() == FingerprintVersion(10, 'W/"f10"', "DEMO/R001")
    assert fp.identify(probe(fp, templates, 1)).employee_key == "E1001"
    assert fp.identify(probe(fp, templates, 2)).employee_key == "E1003"
    ledger_db.db.execute_sql("PRAGMA wal_checkpoint(FULL)")
    stored = b"".join(p.read_bytes() for p in (ledger_db.path, ledger_db.path.with_name(ledger_db.path.name + "-wal"))
                      if p.exists())
    for template in templates(1, 100, 3) + templates(2, 100, 3):
        assert template.to_bytes()[-24:] not in stored                # re-sealed with this kiosk's key


def test_changes_deletions_and_what_is_already_held(fp, templates):
    store = fp.store
    a, b = finger(templates, "E1001", 0, 5, 1), finger(templates, "E1003", 0, 8, 2)
    store.apply_snapshot(snap(10, [a, b], full=True), FingerprintVersion(10), HQ)
    before = held(store)
    c = finger(templates, "E1002", 0, 11, 3)
    counts = store.apply_snapshot(snap(12, [a, c], [DeletedFinger("E1003", 0, 12)]), FingerprintVersion(12), HQ)
    assert (counts.written, counts.removed, counts.unchanged) == (1, 1, 1)
    after = held(store)
    assert after[("E1001", 0)] == before[("E1001", 0)]                # held at that version: not rewritten
    assert set(after) == {("E1001", 0), ("E1002", 0)} and after[("E1002", 0)][1] == 11
    # enrolled here meanwhile (version 20): an older tombstone or a full answer from before leave it alone
    store.add("E1003", 1, "HQ", templates(2, 100, 3), server_version=20)
    store.apply_snapshot(snap(15, [a, c], [DeletedFinger("E1003", 1, 14)]), FingerprintVersion(15), HQ)
    store.apply_snapshot(snap(16, [a], full=True), FingerprintVersion(16), HQ)
    assert set(held(store)) == {("E1001", 0), ("E1003", 1)}           # E1002 was not in the full answer
    # the newest word on one finger wins, whichever list it is in
    store.apply_snapshot(snap(30, [finger(templates, "E1004", 0, 25, 4)], [DeletedFinger("E1004", 0, 22)]),
                         FingerprintVersion(30), HQ)
    store.apply_snapshot(snap(31, [finger(templates, "E1001", 0, 5, 1)], [DeletedFinger("E1001", 0, 31)]),
                         FingerprintVersion(31), HQ)
    assert set(held(store)) == {("E1003", 1), ("E1004", 0)}


def test_the_cached_gallery_follows_without_a_reload(fp, templates, monkeypatch):
    store = fp.store
    store.apply_snapshot(snap(10, [finger(templates, "E1001", 0, 5, 1)], full=True), FingerprintVersion(10), HQ)
    assert len(store.gallery()) == 3
    monkeypatch.setattr(store, "_load_entries", lambda: pytest.fail("the cache was dropped and reloaded"))
    store.apply_snapshot(snap(11, [finger(templates, "E1003", 0, 11, 2)], [DeletedFinger("E1001", 0, 11)]),
                         FingerprintVersion(11), HQ)
    assert store._gallery is not None                                 # restacked on this (the update) thread
    assert store.gallery().employees() == frozenset({"E1003"})
    assert fp.identify(probe(fp, templates, 2)).employee_key == "E1003"
    assert error_of(fp.identify, probe(fp, templates, 1)).key == "auth_failed"


def test_a_failed_write_applies_nothing(fp, templates, monkeypatch):
    store = fp.store
    store.apply_snapshot(snap(10, [finger(templates, "E1001", 0, 5, 1)], full=True), FingerprintVersion(10, "e10"), HQ)
    gallery, before = store.gallery(), held(store)

    def broken(_version):
        raise sqlite3.OperationalError("disk I/O error")
    monkeypatch.setattr(store, "_write_version", broken)
    err = error_of(store.apply_snapshot, snap(11, [finger(templates, "E1003", 0, 11, 2)],
                                              [DeletedFinger("E1001", 0, 11)]), FingerprintVersion(11), HQ)
    assert err.key == "punch_record_failed"                           # the ledger's catalogue error
    assert held(store) == before and store.held_version() == FingerprintVersion(10, "e10")
    assert store.gallery() is gallery


def test_prune_keeps_the_recorders_candidates_only(fp, templates):
    for key, synthetic in (("E1001", 1), ("E1005", 2), ("E1006", 3)):   # HQ, help-registered to HQ, STORE
        fp.store.add(key, 0, "STORE" if key != "E1001" else "HQ", templates(synthetic, 100, 3))
    fp.store.gallery()
    assert fp.store.prune(fp.candidates("HQ")) == 1
    assert {e.employee_key for e in fp.store.gallery().entries} == {"E1001", "E1005"}
    assert fp.store.prune(fp.candidates("HQ")) == 0


class FakeClient:
    def __init__(self, *answers):
        self.answers, self.asked = list(answers), []

    def fingerprints(self, *, since=None, etag=None, situation=None):
        self.asked.append((since, etag))
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer


def pull_step(fp, client, master_version=lambda: 50):
    return FingerprintSync(fp.store, lambda: client, fp._master, fp.candidates, master_version)


def test_pull_since_and_etag_then_304_still_prunes(fp, templates):
    client = FakeClient(snap(40, [finger(templates, "E1001", 0, 5, 1), finger(templates, "E1006", 0, 6, 3)],
                             full=True), None)
    step = pull_step(fp, client)
    result = step.pull()
    assert client.asked == [(None, None)] and result.changed and result.full and result.pruned == 1   # 1006: STORE
    assert fp.store.held_version() == FingerprintVersion(40, 'W/"f40"', "DEMO/R001")
    fp.store.add("E1006", 0, "STORE", templates(3, 100, 3))           # e.g. help registration gone since
    result = step.pull()
    assert client.asked[-1] == (40, 'W/"f40"') and not result.changed and result.pruned == 1
    assert fp.store.fingers_of("E1006") == set() and fp.store.fingers_of("E1001") == {0}


def test_an_answer_newer_than_the_master_data_is_remembered_at_the_master_version(fp, templates):
    client = FakeClient(snap(60, [finger(templates, "E1001", 0, 55, 1)], full=True), snap(60))
    step = pull_step(fp, client, master_version=lambda: 50)
    assert step.pull().version == 50
    assert fp.store.held_version() == FingerprintVersion(50, None, "DEMO/R001")
    step.pull()
    assert client.asked[-1] == (50, None)                             # over-sends a little, misses nothing


def test_another_recorder_starts_with_a_full_pull(fp, templates):
    fp.store.apply_snapshot(snap(40, [finger(templates, "E1001", 0, 5, 1)], full=True),
                            FingerprintVersion(40, "e40", "OTHER/R9"), HQ)
    client = FakeClient(snap(41, full=True))
    pull_step(fp, client).pull()
    assert client.asked == [(None, None)] and fp.store.count() == 0


def test_a_failed_pull_keeps_templates_and_version(fp, templates):
    client = FakeClient(snap(40, [finger(templates, "E1001", 0, 5, 1)], full=True),
                        KioskError("timeout"), ValueError("a bug"))
    step = pull_step(fp, client)
    step.pull()
    assert error_of(step.pull).key == "timeout"
    assert error_of(step.pull).key == "unexpected"
    assert fp.store.fingers_of("E1001") == {0} and fp.store.held_version().version == 40
    assert pull_step(fp, None).pull().changed is False                # no connection: nothing to do


def test_a_changed_gallery_stacks_like_one_built_from_scratch(fp, templates):
    import numpy as np

    from dakoku_core.fingerprint.gallery import EnrolledTemplate, Gallery

    def entries(key, synthetic):
        return [EnrolledTemplate(key, 0, fp._matcher.encode(t)) for t in templates(synthetic, 100, 3)]
    gallery = Gallery(entries("E1001", 1) + entries("E1002", 2))
    changed = gallery.changed({("E1001", 0)}, entries("E1003", 3))
    assert [e.employee_key for e in changed.entries] == ["E1002"] * 3 + ["E1003"] * 3
    assert np.array_equal(changed._stack, Gallery(changed.entries)._stack)
    assert changed.changed(set(), []).entries == changed.entries
