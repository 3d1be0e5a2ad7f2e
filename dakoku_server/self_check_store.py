"""Each company's fingerprint self-check, kept in the database: one check for all the server's workers, kept across
restarts (docs/fingerprint.md § On the server).

Without it every gunicorn worker computed the same check (about a minute of a core at N = 10,000) and, after a
restart, decided ``identify`` with the identify table alone until its own was done: on a kind of print the table
was not fitted on, the very minutes in which strangers pass (the seventh look: 5 % instead of 0.1 %).

A row per company holds:

- the newest finished check (``check_json``, :func:`dakoku_core.fingerprint.self_check.dumps`; NULL when the
  gallery was too small for one, so the table alone) with the **gallery it is of**: a digest of the enrolled
  fingers' row versions and of how the check was computed (:data:`~dakoku_core.fingerprint.self_check.METHOD`,
  the identify table), and the company's ``data_version`` then, which orders two checks;
- a **claim**: the digest of the gallery one worker is checking now and when it last said so. A worker whose
  gallery has no kept check claims it, or, if another worker holds a live claim on that gallery, polls until its
  check is kept. A claim not renewed for ``LEASE`` (a worker killed mid-check) may be taken over.

A worker starting up decides with the row's check at once (whatever gallery it is of: the same sensor and people, a
finger more or less, as a kiosk's kept check), and uses it without a run when it is of the worker's own gallery.
"""
from __future__ import annotations

import hashlib
import json
import logging
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta

import peewee as pw

from dakoku_core.fingerprint.self_check import METHOD, SelfCheck, dumps, loads
from dakoku_server.db import BaseModel, Company, database, utcnow, write_transaction

log = logging.getLogger("dakoku_server")
FingerKey = tuple[str, int]        # (employee key, finger)

LEASE = timedelta(seconds=120)     # a claim not renewed for this long belongs to a worker that is gone
RENEW_S = 30.0                     # a worker renews its claim this often while it checks (LEASE / 4)


class FingerprintSelfCheck(BaseModel):
    company = pw.ForeignKeyField(Company, primary_key=True, on_delete="CASCADE")
    gallery = pw.CharField(max_length=64, default="")      # digest of the gallery the check is of ("": none yet)
    data_version = pw.BigIntegerField(default=0)           # the company's then: a newer gallery's check wins
    check_json = pw.TextField(null=True)                   # NULL: a gallery too small for a check (the table alone)
    made_at = pw.DateTimeField(null=True)
    claimed = pw.CharField(max_length=64, default="")      # digest of the gallery a worker is checking now
    claimed_version = pw.BigIntegerField(default=0)        # that gallery's data_version
    claimed_at = pw.DateTimeField(null=True)


MODELS = [FingerprintSelfCheck]


@dataclass(frozen=True)
class Kept:
    gallery: str                 # digest
    data_version: int
    check: SelfCheck | None      # None: the table alone (a gallery too small, or a kept value not usable)


def gallery_digest(fingers: dict[FingerKey, int], calibration: object) -> str:
    """The gallery a check is of: its fingers at their row versions, and how a check of it is computed (METHOD,
    and the identify table it is fitted against, as ``repr``)."""
    text = json.dumps([METHOD, repr(calibration), sorted([k, f, v] for (k, f), v in fingers.items())],
                      ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@contextmanager
def connected():
    """A connection for this thread: the request's when it has one (left open), else one from the pool for the
    block (a background thread: given back at its end)."""
    opened = database.is_closed()
    if opened:
        database.connect()
    try:
        yield
    finally:
        if opened and not database.is_closed():
            database.close()


def read(company_id: int) -> Kept | None:
    """The company's newest kept check; None when it has none. A value that does not read back is logged and
    counts as none (the next run replaces it)."""
    with connected():
        return _kept(FingerprintSelfCheck.get_or_none(FingerprintSelfCheck.company == company_id), company_id)


def _kept(row: FingerprintSelfCheck | None, company_id: int) -> Kept | None:
    if row is None or not row.gallery:
        return None
    if row.check_json is None:
        return Kept(row.gallery, row.data_version, None)
    try:
        return Kept(row.gallery, row.data_version, loads(row.check_json))
    except ValueError as error:
        log.warning("the kept fingerprint self-check of company %d is not usable (%s): checking again", company_id,
                    error)
        return None


def _claimed_elsewhere(row: FingerprintSelfCheck | None, gallery: str, data_version: int) -> bool:
    """A live claim (renewed within LEASE) on ``gallery`` or on a newer one."""
    if row is None or not row.claimed or row.claimed_at is None or utcnow() - row.claimed_at >= LEASE:
        return False
    return row.claimed == gallery or row.claimed_version > data_version


def claimed_elsewhere(company_id: int, gallery: str, data_version: int) -> bool:
    """Whether :func:`claim` would say no now (a read: a waiting worker polls with it, not with write locks)."""
    with connected():
        return _claimed_elsewhere(FingerprintSelfCheck.get_or_none(FingerprintSelfCheck.company == company_id),
                                  gallery, data_version)


def claim(company_id: int, gallery: str, data_version: int) -> bool:
    """Claim the check of ``gallery`` (taken at ``data_version``) for this worker. Not while another worker's claim
    on the same gallery, or on a newer one, is live (renewed within LEASE); a live claim on an older gallery is
    taken over (its worker stops at its next renewal)."""
    with connected(), write_transaction():
        row = FingerprintSelfCheck.get_or_none(FingerprintSelfCheck.company == company_id)
        if row is None:
            FingerprintSelfCheck.insert(company=company_id, claimed=gallery, claimed_version=data_version,
                                        claimed_at=utcnow()).execute()
            return True
        if _claimed_elsewhere(row, gallery, data_version):
            return False
        FingerprintSelfCheck.update(claimed=gallery, claimed_version=data_version, claimed_at=utcnow()).where(
            FingerprintSelfCheck.company == company_id).execute()
        return True


def release(company_id: int, gallery: str) -> None:
    """End this worker's claim on ``gallery`` without a check (its run stopped): another may claim it at once."""
    with connected(), write_transaction():
        _end_claim(company_id, gallery)


def _end_claim(company_id: int, gallery: str) -> None:
    FingerprintSelfCheck.update(claimed="", claimed_at=None).where(
        (FingerprintSelfCheck.company == company_id) & (FingerprintSelfCheck.claimed == gallery)).execute()


def renew(company_id: int, gallery: str) -> bool:
    """Renew this worker's claim; False when it is no longer the claim (another gallery's check took over)."""
    with connected(), write_transaction():
        return bool(FingerprintSelfCheck.update(claimed_at=utcnow()).where(
            (FingerprintSelfCheck.company == company_id) & (FingerprintSelfCheck.claimed == gallery)).execute())


def keep(company_id: int, gallery: str, data_version: int, check: SelfCheck | None) -> None:
    """Keep ``check`` as the company's, unless a check of a newer gallery, or another worker's of this same gallery
    (its claim was taken over from this worker: the first kept stands, so that all workers decide alike), is kept
    already. The claim on ``gallery`` ends."""
    with connected(), write_transaction():
        kept = _kept(FingerprintSelfCheck.get_or_none(FingerprintSelfCheck.company == company_id), company_id)
        if kept is None or (kept.gallery != gallery and kept.data_version <= data_version):
            values = {FingerprintSelfCheck.gallery: gallery, FingerprintSelfCheck.data_version: data_version,
                      FingerprintSelfCheck.check_json: None if check is None else dumps(check),
                      FingerprintSelfCheck.made_at: utcnow()}
            (FingerprintSelfCheck.insert({FingerprintSelfCheck.company: company_id, **values})
             .on_conflict(conflict_target=[FingerprintSelfCheck.company], update=values).execute())
        _end_claim(company_id, gallery)
