"""Each company's fingerprint self-check, kept in the database: one check for all the server's workers, kept across
restarts (docs/fingerprint.md § On the server).

Without it every gunicorn worker computed the same check (about a minute of a core at N = 10,000) and, after a
restart, decided ``identify`` with the identify table alone until its own was done: on a kind of print the table
was not fitted on, the very minutes in which strangers pass (the seventh look: 5 % instead of 0.1 %).

A row per company holds:

- the newest finished check (``check_json``, :func:`dakoku_core.fingerprint.self_check.dumps`; NULL when the
  gallery was too small for one, so the table alone) with the **gallery it is of**: a digest of the enrolled
  fingers' row versions and of how the check was computed (:data:`~dakoku_core.fingerprint.self_check.METHOD`,
  the source of dakoku_core.fingerprint, the identify table), and the company's ``data_version`` then, which
  orders two checks;
- a **claim**: the digest of the gallery one worker is checking now, that run's token, and when it last said so. A
  worker whose gallery has no kept check claims it, or, if another worker holds a live claim on that gallery (or
  on a gallery of the same or a newer ``data_version``), polls until a check is kept. A claim not renewed for
  ``LEASE`` (a worker hung or killed mid-check) may be taken over; only the run holding the token renews or ends it.

Every write is one statement (a compare-and-set UPDATE, an INSERT that ignores a conflict), not a
``write_transaction``: the check's thread runs at the lowest priority, and must never hold the lock that punch
uploads and registrations wait for.

A worker starting up decides with the row's check at once (whatever gallery it is of: the same sensor and people, a
finger more or less, as a kiosk's kept check), and uses it without a run when it is of the worker's own gallery.
"""
from __future__ import annotations

import hashlib
import json
import logging
import secrets
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta

import peewee as pw
from playhouse.pool import MaxConnectionsExceeded

from dakoku_core.fingerprint.self_check import CODE_DIGEST, METHOD, SelfCheck, dumps, loads
from dakoku_server.db import BaseModel, Company, database, utcnow

log = logging.getLogger("dakoku_server")
FingerKey = tuple[str, int]        # (employee key, finger)

DATABASE_ERRORS = (pw.PeeweeException, MaxConnectionsExceeded)   # what a write or read here may raise
LEASE = timedelta(seconds=120)     # a claim not renewed for this long belongs to a worker that is gone
RENEW_S = 30.0                     # a worker renews its claim this often while it checks (LEASE / 4)
KEEP_TRIES = 5                     # compare-and-set attempts of keep() (another worker keeping meanwhile)


class FingerprintSelfCheck(BaseModel):
    company = pw.ForeignKeyField(Company, primary_key=True, on_delete="CASCADE")
    gallery = pw.CharField(max_length=64, default="")      # digest of the gallery the check is of ("": none yet)
    data_version = pw.BigIntegerField(default=0)           # the company's then: a newer gallery's check wins
    check_json = pw.TextField(null=True)                   # NULL: a gallery too small for a check (the table alone)
    made_at = pw.DateTimeField(null=True)
    revision = pw.BigIntegerField(default=0)               # +1 at each keep (its compare-and-set)
    claimed = pw.CharField(max_length=64, default="")      # digest of the gallery a worker is checking now
    claimed_version = pw.BigIntegerField(default=0)        # that gallery's data_version
    claim_token = pw.CharField(max_length=32, default="")  # that run's: only it renews or ends the claim
    claimed_at = pw.DateTimeField(null=True)


MODELS = [FingerprintSelfCheck]
_Row = FingerprintSelfCheck


@dataclass(frozen=True)
class Kept:
    gallery: str                 # digest
    data_version: int
    check: SelfCheck | None      # None: the table alone (a gallery too small)


def gallery_digest(fingers: dict[FingerKey, int], calibration: object) -> str:
    """The gallery a check is of: its fingers at their row versions, and how a check of it is computed (METHOD, the
    fingerprint code, and the identify table it is fitted against, as ``repr``)."""
    text = json.dumps([METHOD, CODE_DIGEST, repr(calibration), sorted([k, f, v] for (k, f), v in fingers.items())],
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


def _row(company_id: int) -> FingerprintSelfCheck | None:
    return _Row.get_or_none(_Row.company == company_id)


def read(company_id: int) -> Kept | None:
    """The company's newest kept check; None when it has none. A value that does not read back is logged and
    counts as none (the next run replaces it)."""
    with connected():
        return _kept(_row(company_id), company_id)


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


def _free_for(gallery: str, data_version: int, now) -> pw.Expression:
    """No live claim stands in the way of claiming ``gallery``: none, one not renewed within LEASE, or one on an
    *older* gallery (a newer or equally new one, another build's digest of the same fingers, is waited for)."""
    return ((_Row.claimed == "") | _Row.claimed_at.is_null() | (_Row.claimed_at < now - LEASE)
            | ((_Row.claimed != gallery) & (_Row.claimed_version < data_version)))


def claimed_elsewhere(company_id: int, gallery: str, data_version: int) -> bool:
    """Whether :func:`claim` would say no now (a read: a waiting worker polls with it, not with writes)."""
    with connected():
        free = _Row.select().where((_Row.company == company_id) & _free_for(gallery, data_version, utcnow()))
        return _row(company_id) is not None and not free.exists()


def claim(company_id: int, gallery: str, data_version: int) -> str | None:
    """Claim the check of ``gallery`` (taken at ``data_version``) for one run: its token, or None while another
    worker's claim stands in the way (:func:`_free_for`). A live claim on an older gallery is taken over (its run
    stops at its next renewal)."""
    token = secrets.token_hex(16)
    with connected():
        _Row.insert(company=company_id).on_conflict_ignore().execute()
        now = utcnow()
        taken = (_Row.update(claimed=gallery, claimed_version=data_version, claim_token=token, claimed_at=now)
                 .where((_Row.company == company_id) & _free_for(gallery, data_version, now)).execute())
    return token if taken else None


def renew(company_id: int, token: str) -> bool:
    """Renew this run's claim; False when it is no longer the claim (taken over)."""
    with connected():
        return bool(_Row.update(claimed_at=utcnow()).where(
            (_Row.company == company_id) & (_Row.claim_token == token) & (_Row.claimed != "")).execute())


def release(company_id: int, token: str) -> None:
    """End this run's claim (its check kept, or the run stopped): another worker may claim the gallery at once. A
    claim taken over meanwhile is the other run's, and stays."""
    with connected():
        _Row.update(claimed="", claim_token="", claimed_at=None).where(
            (_Row.company == company_id) & (_Row.claim_token == token)).execute()


def keep(company_id: int, gallery: str, data_version: int, check: SelfCheck | None, token: str) -> bool:
    """Keep ``check`` as the company's, unless a check of a newer gallery, or one of this same gallery (another
    worker's, kept first: it stands, so that all workers decide alike), is kept already; then end this run's claim.
    True when kept."""
    values = {_Row.gallery: gallery, _Row.data_version: data_version,
              _Row.check_json: None if check is None else dumps(check), _Row.made_at: utcnow()}
    kept = False
    with connected():
        _Row.insert(company=company_id).on_conflict_ignore().execute()
        for _ in range(KEEP_TRIES):
            row = _row(company_id)
            present = _kept(row, company_id)
            if present is not None and (present.gallery == gallery or present.data_version > data_version):
                break
            if _Row.update({**values, _Row.revision: row.revision + 1}).where(
                    (_Row.company == company_id) & (_Row.revision == row.revision)).execute():
                kept = True
                break
        else:
            log.warning("fingerprint self-check of company %d not kept: the row kept changing", company_id)
    release(company_id, token)
    return kept
