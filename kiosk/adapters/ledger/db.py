"""Opening the ledger: SQLite in WAL mode with synchronous=FULL, versioned migrations, and the one place
where database failures become catalogue errors."""
from __future__ import annotations

import functools
import sqlite3
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import peewee as pw

from kiosk.adapters.ledger.models import database_proxy
from dakoku_core.errors import KioskError, Situation

PRAGMAS = {
    "journal_mode": "wal",
    "synchronous": 2,        # FULL: the WAL is fsynced at every commit
    "foreign_keys": 1,
    "busy_timeout": 5000,    # ms: wait this long for another writer (e.g. a データ更新), then fail visibly
    # The WAL is folded back into the file every 64 pages (256 KiB, not SQLite's 4 MiB) and cut back to
    # 256 KiB after that, so a nearly full disk keeps taking punches while the data itself fits (issue 10.12).
    "wal_autocheckpoint": 64,
    "journal_size_limit": 256 * 1024,
    # Each connection (one per thread: punch, sync worker, データ更新) caches at most 512 KiB of pages, not SQLite's
    # 2 MiB: the soak showed the kiosk's memory growing with the caches for hours as the ledger grows (issue 10);
    # the pages a punch and a batch touch (the tail of the punch table, the outbox index) fit many times over.
    "cache_size": -512,
}

# Each migration takes the schema from version i to i + 1. Never edit a released one: append.
MIGRATIONS: list[tuple[str, ...]] = [
    (
        """CREATE TABLE punch (
            uuid TEXT PRIMARY KEY NOT NULL,
            employee_key TEXT NOT NULL,
            kind TEXT NOT NULL,
            stamped_at_utc TEXT NOT NULL,
            utc_offset_min INTEGER NOT NULL,
            time_source TEXT NOT NULL,
            offline INTEGER NOT NULL,
            auth_method TEXT NOT NULL,
            recorder_code TEXT NOT NULL,
            created_at_utc TEXT NOT NULL,
            sync_state TEXT NOT NULL DEFAULT 'pending',
            sync_attempts INTEGER NOT NULL DEFAULT 0,
            last_error TEXT NOT NULL DEFAULT '',
            synced_at_utc TEXT NOT NULL DEFAULT ''
        )""",
        "CREATE INDEX punch_employee_time ON punch (employee_key, stamped_at_utc)",
        "CREATE INDEX punch_pending ON punch (sync_state, created_at_utc)",
        "CREATE INDEX punch_time ON punch (stamped_at_utc)",
        "CREATE TABLE department (code TEXT PRIMARY KEY NOT NULL, name TEXT NOT NULL)",
        """CREATE TABLE employment_type (code TEXT PRIMARY KEY NOT NULL, name TEXT NOT NULL,
            break_punch_allowed INTEGER NOT NULL)""",
        """CREATE TABLE employee (
            key TEXT PRIMARY KEY NOT NULL, code TEXT NOT NULL, login_id TEXT NOT NULL DEFAULT '',
            last_name TEXT NOT NULL, first_name TEXT NOT NULL, kana TEXT NOT NULL DEFAULT '',
            department_code TEXT NOT NULL, employment_type_code TEXT NOT NULL,
            hired_on DATE, retired_on DATE,
            password_punch_allowed INTEGER NOT NULL DEFAULT 0, password_hash TEXT NOT NULL DEFAULT ''
        )""",
        "CREATE UNIQUE INDEX employee_code ON employee (code)",
        "CREATE INDEX employee_login ON employee (login_id)",
        """CREATE TABLE credential (method TEXT NOT NULL, ref TEXT NOT NULL, employee_key TEXT NOT NULL,
            PRIMARY KEY (method, ref))""",
        """CREATE TABLE help_registration (employee_key TEXT NOT NULL, department_code TEXT NOT NULL,
            PRIMARY KEY (employee_key, department_code))""",
        "CREATE TABLE meta (key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL)",
    ),
    (   # 2: manager actions at the kiosk are audit-logged (design.md §5)
        """CREATE TABLE audit_log (id INTEGER PRIMARY KEY AUTOINCREMENT, at_utc TEXT NOT NULL,
            action TEXT NOT NULL, outcome TEXT NOT NULL, detail TEXT NOT NULL DEFAULT '')""",
        "CREATE INDEX audit_log_time ON audit_log (at_utc)",
    ),
    (   # 3: fingerprint templates enrolled at this kiosk, sealed with AES-256-GCM (keys live elsewhere)
        """CREATE TABLE fingerprint_template (id INTEGER PRIMARY KEY AUTOINCREMENT,
            employee_key TEXT NOT NULL, finger INTEGER NOT NULL CHECK (finger BETWEEN 0 AND 9),
            department_code TEXT NOT NULL, sealed BLOB NOT NULL, created_at_utc TEXT NOT NULL)""",
        "CREATE INDEX fingerprint_template_employee ON fingerprint_template (employee_key, finger)",
    ),
    (   # 4: fingers come from the server: its version of each finger (NULL: enrolled here before the server kept them)
        "ALTER TABLE fingerprint_template ADD COLUMN server_version INTEGER",
    ),
    (   # 5: each sub-template's MCC cylinder code, sealed like it: a start decrypts instead of re-encoding
        "ALTER TABLE fingerprint_template ADD COLUMN sealed_code BLOB",
    ),
    (   # 6: the order punches were made in (not the machine clock's): uploads and "the last punch" follow it
        "ALTER TABLE punch ADD COLUMN seq INTEGER",
        "UPDATE punch SET seq = rowid",
        "CREATE UNIQUE INDEX punch_seq ON punch (seq)",
        "CREATE INDEX punch_pending_seq ON punch (sync_state, seq)",
        "CREATE INDEX punch_employee_seq ON punch (employee_key, seq)",
    ),
    (   # 7: pending punches are read by seq (punch_pending_seq): one index less to write per punch
        "DROP INDEX IF EXISTS punch_pending",
    ),
    (   # 8: the master-data version whose recorder settings judged the punch (NULL: recorded before; issue 9)
        "ALTER TABLE punch ADD COLUMN master_version INTEGER",
    ),
    (   # 9: 取り消し (issue 12): a correction is a row of its own (kind 'cancel') naming the punch it cancels; the
        # punch's row is never changed. One correction per punch.
        "ALTER TABLE punch ADD COLUMN cancels TEXT",
        "CREATE UNIQUE INDEX punch_cancels ON punch (cancels) WHERE cancels IS NOT NULL",
    ),
]
SCHEMA_VERSION = len(MIGRATIONS)

# SQLite primary result codes (sqlite3.h) that mean "this write cannot happen right now".
_WRITE_REFUSED = {5: "busy", 6: "locked", 8: "read-only", 13: "disk full", 10: "I/O error", 14: "cannot open"}
# ... and those that mean the file itself is broken: restart (and have a person look at the file).
_BROKEN = {11: "corrupt", 26: "not a database"}


def ledger_error(exc: BaseException, situation: Situation = Situation.PUNCH) -> KioskError:
    """Translate a database failure into the catalogue's 勤務時間の記録に失敗しました / 打刻の保存に失敗しました."""
    sqlite_exc, primary = _root_sqlite_error(exc)
    if primary in _BROKEN or isinstance(exc, OSError):
        variant, reason = "save", _BROKEN.get(primary, type(exc).__name__)
    else:
        variant, reason = None, _WRITE_REFUSED.get(primary, type(exc).__name__)
    return KioskError("punch_record_failed", situation=situation, variant=variant,
                      detail=f"{reason}: {sqlite_exc or exc}")


def _root_sqlite_error(exc: BaseException | None) -> tuple[sqlite3.Error | None, int | None]:
    """The most telling SQLite error in the chain. A failed write may surface as a later error (e.g. peewee's
    rollback after SQLite already rolled back a full disk), so prefer one whose code we know."""
    found: list[sqlite3.Error] = []
    seen = set()
    stack = [exc]
    while stack:
        current = stack.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, sqlite3.Error):
            found.append(current)
        stack.extend(a for a in current.args if isinstance(a, BaseException))
        stack.extend((current.__cause__, current.__context__))
    for err in found:
        code = getattr(err, "sqlite_errorcode", None)
        if isinstance(code, int) and (code & 0xFF) in {**_WRITE_REFUSED, **_BROKEN}:
            return err, code & 0xFF
    return (found[0] if found else None), None


def translated(method):
    """Decorator for adapter methods: database failures leave as catalogue errors, never as peewee's."""
    @functools.wraps(method)
    def wrapper(*args, **kwargs):
        try:
            return method(*args, **kwargs)
        except KioskError:
            raise
        except (pw.PeeweeException, sqlite3.Error, OSError) as exc:
            raise ledger_error(exc) from exc
    return wrapper


class LedgerDatabase:
    """One SQLite file; peewee keeps one connection per thread.

    The peewee models are bound through one proxy, so a process has one open ledger at a time; opening a
    second while the first is open is refused rather than silently redirecting the first one's reads."""

    _open: "LedgerDatabase | None" = None

    def __init__(self, path: Path):
        if LedgerDatabase._open is not None:
            raise RuntimeError(f"a ledger is already open in this process: {LedgerDatabase._open.path}")
        self.path = Path(path)
        self.db = pw.SqliteDatabase(str(self.path), pragmas=PRAGMAS, timeout=PRAGMAS["busy_timeout"] / 1000)
        database_proxy.initialize(self.db)
        LedgerDatabase._open = self

    def migrate(self) -> int:
        """Bring the schema to SCHEMA_VERSION; returns the version found before."""
        version = self.db.execute_sql("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise KioskError("punch_record_failed", situation=Situation.STARTUP, variant="save",
                             detail=f"ledger schema {version} is newer than this program ({SCHEMA_VERSION})")
        for target in range(version, SCHEMA_VERSION):
            with self.db.atomic():
                for statement in MIGRATIONS[target]:
                    self.db.execute_sql(statement)
                self.db.execute_sql(f"PRAGMA user_version = {target + 1}")
        return version

    @contextmanager
    def writing(self, situation: Situation = Situation.PUNCH) -> Iterator[None]:
        """A durable write transaction; any failure becomes the catalogue's ledger error."""
        try:
            with self.db.atomic("IMMEDIATE"):
                yield
        except KioskError:
            raise
        except (pw.PeeweeException, sqlite3.Error, OSError) as exc:
            raise ledger_error(exc, situation) from exc

    def quick_check(self) -> str:
        """SQLite's verdict on the file: "ok", or what is wrong (for 自己診断)."""
        rows = self.db.execute_sql("PRAGMA quick_check").fetchall()
        return "\n".join(r[0] for r in rows[:5])

    def checkpoint(self) -> None:
        """Fold the WAL back into the file and cut it to zero (after a sync; readers may make it partial)."""
        self.db.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")

    def close(self) -> None:
        if not self.db.is_closed():
            self.db.close()
        if LedgerDatabase._open is self:
            LedgerDatabase._open = None


def open_ledger(path: Path, situation: Situation = Situation.STARTUP) -> LedgerDatabase:
    """Open (creating if needed) and migrate the ledger; failures are catalogue errors."""
    try:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        ledger = LedgerDatabase(path)
        try:
            ledger.db.connect(reuse_if_open=True)
            ledger.migrate()
        except BaseException:
            ledger.close()
            raise
        return ledger
    except KioskError:
        raise
    except (pw.PeeweeException, sqlite3.Error, OSError) as exc:
        raise ledger_error(exc, situation) from exc


def open_ledger_at_start(path: Path) -> tuple[LedgerDatabase, KioskError | None]:
    """The start-up path: a damaged ledger is kept aside and reported (see ``startup.py``), then the ledger
    is opened (a new one if needed) and marked as created."""
    from kiosk.adapters.ledger.startup import check_and_set_aside, write_marker

    damage = check_and_set_aside(Path(path))
    ledger = open_ledger(path)
    try:
        write_marker(Path(path))
    except OSError as exc:
        ledger.close()
        raise ledger_error(exc, Situation.STARTUP) from exc
    if damage is None:
        return ledger, None
    from kiosk.adapters.ledger.audit_store import SqliteAuditLog

    error = damage.error()
    SqliteAuditLog(ledger).record("ledger_damaged", "kept_aside", error.detail)
    return ledger, error
