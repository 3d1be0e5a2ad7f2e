"""The offline ledger: punches (the outbox) and cached master data in one SQLite file via peewee."""
from kiosk.adapters.ledger.db import LedgerDatabase, open_ledger
from kiosk.adapters.ledger.master_store import SqliteMasterData
from kiosk.adapters.ledger.punch_store import SqlitePunchLedger

__all__ = ["LedgerDatabase", "open_ledger", "SqliteMasterData", "SqlitePunchLedger"]
