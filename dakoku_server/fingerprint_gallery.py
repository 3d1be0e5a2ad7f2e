"""The company-wide gallery of the enrolment duplicate check, kept per process (gunicorn worker).

Building it from nothing means, per sub-template, decrypting its sealed cylinder code (the MCC encoding was
done once, at registration) and, for all of them, the prefilter stack of :class:`Gallery`. The result is kept
per company for the company's ``data_version``; when the version moves on, only the fingers whose row version
changed are dropped or loaded (a listing without blobs tells which), and the prefilter rows of the others are
reused. So a registration costs the decryption of the changed fingers, not of the company.
"""
from __future__ import annotations

import functools
import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Callable

from dakoku_core.fingerprint.gallery import EnrolledTemplate, Gallery
from dakoku_core.fingerprint.identify import FingerprintIdentifier
from dakoku_core.fingerprint.self_check import BackgroundSelfCheck, Foreground, SelfCheck, self_check
from dakoku_server import self_check_store
from dakoku_server.db import Company, Employee, FingerprintTemplate
from dakoku_server.template_vault import TemplateVault, binding

log = logging.getLogger("dakoku_server")
FingerKey = tuple[str, int]        # (employee key, finger)


@dataclass
class _State:
    version: int = 0
    fingers: dict[FingerKey, int] = field(default_factory=dict)      # finger -> its rows' version
    gallery: Gallery = field(default_factory=lambda: Gallery(()))


def finger_versions(company: Company) -> dict[FingerKey, int]:
    """Every enrolled finger of the company with its version (no blobs read)."""
    query = (FingerprintTemplate.select(Employee.key, FingerprintTemplate.finger, FingerprintTemplate.version)
             .join(Employee).where(FingerprintTemplate.company == company).tuples())
    return {(key, finger): version for key, finger, version in query}


def load_entries(company: Company, vault: TemplateVault,
                 wanted: dict[FingerKey, int]) -> tuple[list[EnrolledTemplate], dict[FingerKey, int]]:
    """The decrypted cylinder codes of the ``wanted`` fingers at the versions given, and which fingers were
    found so (one changed or deleted since the listing is not: it is left for the next refresh)."""
    if not wanted:
        return [], {}
    row = FingerprintTemplate
    query = (row.select(Employee.key, row.finger, row.version, row.sealed_code).join(Employee)
             .where((row.company == company) & (row.version >= min(wanted.values())))
             .order_by(row.employee, row.finger, row.seq).tuples())
    entries = [EnrolledTemplate(key, finger, vault.open_code(blob, binding(company.code, key, finger)))
               for key, finger, version, blob in query if wanted.get((key, finger)) == version]
    return entries, {(e.employee_key, e.finger): wanted[(e.employee_key, e.finger)] for e in entries}


def _refresh(company: Company, vault: TemplateVault, old: _State) -> _State:
    """Bring ``old`` up to ``company.data_version``. The listing and the load are two queries, maybe outside a
    transaction: the state records only the fingers actually loaded; one changed in between bumped the
    data_version, so the next call refreshes again and loads it."""
    started = time.perf_counter()
    current = finger_versions(company)
    stale = {k for k, v in old.fingers.items() if current.get(k) != v}
    wanted = {k: v for k, v in current.items() if old.fingers.get(k) != v}
    entries, loaded = load_entries(company, vault, wanted)
    gallery = old.gallery.changed(stale, entries)
    fingers = {k: v for k, v in current.items() if k not in wanted or k in loaded}
    log.info("fingerprint gallery of %s at version %d: %d fingers dropped, %d loaded, %d sub-templates, %.0f ms",
             company.code, company.data_version, len(stale), len(loaded), len(gallery),
             (time.perf_counter() - started) * 1000)
    return _State(company.data_version, fingers, gallery)


POLL_S = 2.0      # a worker waiting for another's check of the same gallery looks for it this often


class GalleryCache:
    """Per process: company id -> the gallery at a data_version (thread-safe), and its self-check
    (dakoku_core.fingerprint.self_check), started in the background whenever the gallery changes, as a kiosk's.

    The check is shared by the server's workers and kept across restarts (dakoku_server.self_check_store): a
    worker decides with the company's kept check from its first request, takes the kept check of its own gallery
    without running one, and runs one only when it claimed that gallery's check (the others poll for it).

    ``run`` is what a check runs (``self_check``; tests give a scripted one); it is looked up when a run starts.
    One check runs at a time in a process, whatever the number of companies: each searches on one core and holds
    the interpreter lock much of the time, beside the threads serving requests; the others wait their turn (each
    company's previous check stands meanwhile). It waits between its searches while a decision a kiosk waits for
    runs in ``with cache.foreground():`` (any company's: one process, one interpreter lock)."""

    def __init__(self, run: Callable[..., SelfCheck | None] = self_check, *, poll_s: float = POLL_S) -> None:
        self.run, self.poll_s = run, poll_s
        self._one_at_a_time = threading.Lock()
        self._generation = 0                  # clear() moves it on: the runs under way stop
        # No extraction precedes a search here (the kiosk extracted), so no quiet time after one; and with many
        # kiosks' requests overlapping, a search of the check waits at most 1 s (600 of them: about 10 minutes).
        self.foreground = Foreground(quiet_s=0.0, longest_s=1.0)
        self._states: dict[int, _State] = {}
        self._locks: dict[int, threading.Lock] = {}
        self._checks: dict[int, BackgroundSelfCheck] = {}
        self._lock = threading.Lock()         # guards the dicts only, never held during a load

    def self_checks(self, company_id: int) -> BackgroundSelfCheck:
        with self._lock:
            checks, generation = self._checks.get(company_id), self._generation
        if checks is not None:
            return checks
        kept = _kept(company_id)            # read outside the lock: the company's newest check stands from the start
        with self._lock:
            checks = self._checks.get(company_id)
            if checks is None and generation == self._generation:
                # its runs belong to this generation: a clear() after it stops them, however late
                checks = self._checks[company_id] = BackgroundSelfCheck(
                    functools.partial(self._shared_run, company_id=company_id, generation=generation),
                    initial=None if kept is None else kept.check)
        return checks if checks is not None else self.self_checks(company_id)

    def _shared_run(self, identifier: FingerprintIdentifier, *, company_id: int, generation: int,
                    stop: Callable[[], bool] = lambda: False) -> SelfCheck | None:
        """The check of ``identifier``'s gallery: the kept one if it is of this gallery (or of a newer one: this
        worker's gallery is stale, and the newest check stands), else this worker's own run once it claimed the
        gallery, else (another worker's claim stands) the one that worker keeps. A database error on the way is
        logged and tried again after ``poll_s``: only the check's own computation can fail a run (a failed run
        leaves this worker on its previous check until the gallery changes). Returns only once this gallery's
        check is known or the run was stopped (its gallery replaced, the cache cleared: the result goes nowhere)."""
        def halted() -> bool:
            return self._generation != generation or stop()
        state = self._state_of(company_id, identifier.gallery)
        if state is None:              # a newer gallery is in _states already; its attach stops this run
            while not halted():
                time.sleep(self.poll_s)
            return None
        gallery = self_check_store.gallery_digest(state.fingers, identifier.base_calibration)
        while not halted():
            try:
                kept = self_check_store.read(company_id)
                if kept is not None and (kept.gallery == gallery or kept.data_version > state.version):
                    return kept.check
                if not self_check_store.claimed_elsewhere(company_id, gallery, state.version):
                    with self._one_at_a_time:      # a run abandoned while it waited stops at its first search
                        if halted():
                            break
                        token = self_check_store.claim(company_id, gallery, state.version)
                        if token is not None:
                            check, lost = self._claimed_run(identifier, company_id, gallery, state.version, token,
                                                            halted)
                            if not lost:
                                return check
                            continue               # taken over by a newer gallery's worker: its check will do
            except self_check_store.DATABASE_ERRORS as error:
                log.warning("fingerprint self-check of company %d: the database failed (%s): trying again",
                            company_id, error)
            time.sleep(self.poll_s)
        return None

    def _claimed_run(self, identifier: FingerprintIdentifier, company_id: int, gallery: str, version: int,
                     token: str, halted: Callable[[], bool]) -> tuple[SelfCheck | None, bool]:
        """Run the check this worker claimed, renewing the claim (a renewal refused or failing: lost); kept when
        done. (check, claim lost)."""
        renewed, why = time.monotonic(), ""

        def stop() -> bool:
            nonlocal renewed, why
            if not why and self._paused(halted):
                why = "stopped"
            if not why and time.monotonic() - renewed >= self_check_store.RENEW_S:
                renewed = time.monotonic()
                try:
                    if not self_check_store.renew(company_id, token):
                        why = "lost"
                except self_check_store.DATABASE_ERRORS as error:
                    log.warning("fingerprint self-check of company %d: renewing failed (%s)", company_id, error)
                    why = "lost"
            return bool(why)
        try:
            check = self.run(identifier, stop=stop)
        except BaseException:
            _quietly(self_check_store.release, company_id, token)     # another worker may try at once
            raise
        if why:
            _quietly(self_check_store.release, company_id, token)
            return None, why == "lost"
        try:
            self_check_store.keep(company_id, gallery, version, check, token)
            kept = self_check_store.read(company_id)  # another worker's of this gallery, if it was kept first
        except self_check_store.DATABASE_ERRORS as error:     # this worker decides with its own meanwhile
            log.warning("could not keep the fingerprint self-check of company %d (%s)", company_id, error)
            return check, False
        return (kept.check if kept is not None and kept.gallery == gallery else check), False

    def _state_of(self, company_id: int, gallery: Gallery) -> _State | None:
        with self._lock:
            state = self._states.get(company_id)
        return state if state is not None and state.gallery is gallery else None

    def _paused(self, stop: Callable[[], bool]) -> bool:
        """Before each search of a run: the process's decisions first, then the company's own ``stop``."""
        self.foreground.wait_quiet()
        return stop()

    def gallery(self, company: Company, vault: TemplateVault) -> Gallery:
        """The company's gallery at ``company.data_version``. The duplicate check reads ``company`` inside its
        write transaction, so the gallery has every finger committed before it; calling this first outside
        the transaction does the slow part (a cold load) without holding the write lock."""
        with self._company_lock(company.id):     # one company's cold load never waits on another's
            return self._current(company, vault)

    def identifier(self, company: Company, vault: TemplateVault,
                   make: Callable[[Gallery], FingerprintIdentifier]) -> FingerprintIdentifier:
        """``make(gallery)`` on the company's gallery, deciding with its newest finished self-check. Attached
        under the company's lock: a gallery that a concurrent request replaced meanwhile would restart the check
        on that older gallery and abandon the newest one's."""
        with self._company_lock(company.id):
            identifier = make(self._current(company, vault))
            self.self_checks(company.id).attach(identifier)
        return identifier

    def _company_lock(self, company_id: int) -> threading.Lock:
        with self._lock:
            return self._locks.setdefault(company_id, threading.Lock())

    def _current(self, company: Company, vault: TemplateVault) -> Gallery:
        """The gallery at ``company.data_version``, refreshed (and its check started) if it moved; the caller holds
        the company's lock."""
        with self._lock:
            state = self._states.get(company.id) or _State()
        if state.version != company.data_version:
            state = _refresh(company, vault, state)
            with self._lock:
                self._states[company.id] = state
            self.self_checks(company.id).attach(FingerprintIdentifier(state.gallery))
        return state.gallery

    def clear(self) -> None:
        """Forget every gallery and check; the runs under way stop at their next search."""
        with self._lock:
            self._generation += 1
            self._states.clear()
            self._locks.clear()
            self._checks.clear()


def _kept(company_id: int) -> self_check_store.Kept | None:
    try:
        return self_check_store.read(company_id)
    except self_check_store.DATABASE_ERRORS as error:     # the request's next query says so, if it persists
        log.warning("could not read the kept fingerprint self-check of company %d (%s)", company_id, error)
        return None


def _quietly(write: Callable[..., None], *args) -> None:
    """A claim's release, when failing only means the claim lapses after LEASE."""
    try:
        write(*args)
    except self_check_store.DATABASE_ERRORS as error:
        log.warning("fingerprint self-check: releasing the claim failed (%s); it lapses after its lease", error)


GALLERIES = GalleryCache()
