"""Applying pulled master data to the ledger's cache, and remembering its version and ETag.

A full answer goes straight to :meth:`SqliteMasterData.replace_all`. An incremental answer (``since=N``) is
merged with what the cache holds (upserts by key, tombstones removed) and then swapped in the same way, so
readers see old or new data, never a mix, and the in-memory snapshot is rebuilt by the store itself.
The version and ETag are written only after the data: a crash in between leaves an older version, and
re-applying the same changes is harmless.
"""
from __future__ import annotations

import json
import logging

from kiosk.adapters.ledger.db import LedgerDatabase, translated
from kiosk.adapters.ledger.master_store import META_SETTINGS, SqliteMasterData
from kiosk.adapters.ledger.models import CredentialRow, HelpRegistrationRow, MetaRow
from dakoku_core.domain.model import AuthMethod, Credential
from dakoku_core.errors import Situation
from kiosk.ports.recorder_api import MasterSnapshot, MasterVersion

log = logging.getLogger(__name__)
META_VERSION, META_ETAG = "master_version", "master_etag"


class SqliteMasterSync:
    """Implements :class:`kiosk.ports.recorder_api.MasterStore` on the ledger."""

    def __init__(self, ledger: LedgerDatabase, master: SqliteMasterData):
        self._ledger = ledger
        self._master = master

    @translated
    def current_version(self) -> MasterVersion:
        meta = {r.key: r.value for r in MetaRow.select().where(MetaRow.key.in_([META_VERSION, META_ETAG]))}
        if META_VERSION not in meta or self._master.recorder() is None:
            return MasterVersion()
        return MasterVersion(int(meta[META_VERSION]), meta.get(META_ETAG) or None)

    @translated
    def recorder_settings(self) -> dict:
        row = MetaRow.get_or_none(MetaRow.key == META_SETTINGS)
        return json.loads(row.value) if row else {}

    def apply(self, snapshot: MasterSnapshot) -> None:
        data = _full_data(snapshot) if snapshot.full else self._merged(snapshot)
        # the recorder settings go in with the data (one transaction, one snapshot): a punch never sees
        # the new master data judged by the old settings
        self._master.replace_all(**data, recorder_settings=dict(snapshot.recorder_settings),
                                 settings_version=snapshot.version)
        with self._ledger.writing(Situation.DATA_UPDATE):
            MetaRow.replace(key=META_VERSION, value=str(snapshot.version)).execute()
            MetaRow.replace(key=META_ETAG, value=snapshot.etag).execute()

    def forget_version(self) -> None:
        """Make the next pull a full one (e.g. after the connection changed)."""
        with self._ledger.writing(Situation.DATA_UPDATE):
            MetaRow.delete().where(MetaRow.key.in_([META_VERSION, META_ETAG])).execute()

    @translated
    def _merged(self, delta: MasterSnapshot) -> dict:
        employees = {e.key: e for e in self._master.employees()}
        credentials = {(r.method, r.ref): Credential(r.employee_key, AuthMethod(r.method), r.ref)
                       for r in CredentialRow.select()}
        helps = {(r.employee_key, r.department_code) for r in HelpRegistrationRow.select()}
        for tomb in delta.deleted:
            if tomb.kind == "employee":
                employees.pop(tomb.key, None)
            elif tomb.kind == "credential":
                method, _, ref = tomb.key.partition(":")
                credentials.pop((method, ref), None)
            elif tomb.kind == "help_registration":
                employee_key, _, department = tomb.key.partition(":")
                helps.discard((employee_key, department))
            else:
                log.warning("master data: ignoring a tombstone of unknown kind %r", tomb.kind)
        employees.update({e.key: e for e in delta.employees})
        credentials.update({(c.method.value, c.ref): c for c in delta.credentials})
        helps.update(delta.help_registrations)
        # rows of employees that are gone go with them (the server cascades the same way)
        credentials = {k: c for k, c in credentials.items() if c.employee_key in employees}
        helps = {h for h in helps if h[0] in employees}
        return {**_full_data(delta), "employees": list(employees.values()),
                "credentials": list(credentials.values()), "help_registrations": sorted(helps)}


def _full_data(snapshot: MasterSnapshot) -> dict:
    return {"employees": snapshot.employees, "credentials": snapshot.credentials,
            "departments": snapshot.departments, "employment_types": snapshot.employment_types,
            "help_registrations": snapshot.help_registrations, "recorder": snapshot.recorder,
            "card_key": snapshot.card_key}
