"""The reference server's tables (peewee): SQLite by default, PostgreSQL by URL.

Master data rows carry ``version``: the company's ``data_version`` at their last change. Deleting a row
leaves a :class:`Tombstone` with the version of the deletion, so ``GET /v1/master?since=N`` can send only
what changed after N. Times are stored as naive UTC.
"""
from __future__ import annotations

from contextlib import contextmanager
from datetime import datetime, timezone

import peewee as pw
from playhouse.db_url import connect as url_connect

from dakoku_server import private_files
from dakoku_server.db_pool import pooled_url

database = pw.DatabaseProxy()
SQLITE_PRAGMAS = {"journal_mode": "wal", "synchronous": "full", "foreign_keys": 1, "busy_timeout": 15000}


def utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


class BaseModel(pw.Model):
    class Meta:
        database = database


class ServerSetting(BaseModel):
    name = pw.CharField(primary_key=True, max_length=64)
    value = pw.TextField()


class Company(BaseModel):
    code = pw.CharField(unique=True, max_length=32)
    name = pw.CharField(max_length=200)
    timezone = pw.CharField(max_length=64, default="Asia/Tokyo")
    card_key = pw.CharField(max_length=128)        # base64url of 32 random bytes (HMAC key for card refs)
    data_version = pw.BigIntegerField(default=1)


class AllowedIp(BaseModel):
    company = pw.ForeignKeyField(Company, backref="allowed_ips", on_delete="CASCADE")
    address = pw.CharField(max_length=64)

    class Meta:
        indexes = ((("company", "address"), True),)


class Department(BaseModel):
    company = pw.ForeignKeyField(Company, on_delete="CASCADE")
    code = pw.CharField(max_length=32)
    name = pw.CharField(max_length=200)
    version = pw.BigIntegerField(default=0)

    class Meta:
        indexes = ((("company", "code"), True),)


class EmploymentType(BaseModel):
    company = pw.ForeignKeyField(Company, on_delete="CASCADE")
    code = pw.CharField(max_length=32)
    name = pw.CharField(max_length=200)
    break_punch_allowed = pw.BooleanField(default=True)
    version = pw.BigIntegerField(default=0)

    class Meta:
        indexes = ((("company", "code"), True),)


class Employee(BaseModel):
    company = pw.ForeignKeyField(Company, on_delete="CASCADE")
    key = pw.CharField(unique=True, max_length=64)
    code = pw.CharField(max_length=32)
    login_id = pw.CharField(max_length=64, default="")
    last_name = pw.CharField(max_length=100)
    first_name = pw.CharField(max_length=100, default="")
    last_name_kana = pw.CharField(max_length=100, default="")
    first_name_kana = pw.CharField(max_length=100, default="")
    department = pw.ForeignKeyField(Department)
    employment_type = pw.ForeignKeyField(EmploymentType)
    hired_on = pw.DateField(null=True)
    retired_on = pw.DateField(null=True)
    password_punch_allowed = pw.BooleanField(default=False)
    password_hash = pw.CharField(max_length=200, default="")
    version = pw.BigIntegerField(default=0)

    class Meta:
        indexes = ((("company", "code"), True),)

    @property
    def display_name(self) -> str:
        return f"{self.last_name} {self.first_name}".strip()


class Credential(BaseModel):
    company = pw.ForeignKeyField(Company, on_delete="CASCADE")
    employee = pw.ForeignKeyField(Employee, on_delete="CASCADE")
    method = pw.CharField(max_length=16)
    ref = pw.CharField(max_length=128)
    created_at = pw.DateTimeField(default=utcnow)
    version = pw.BigIntegerField(default=0)
    registered_by = pw.CharField(max_length=32, default="")   # the recorder's code ("": admin CLI, or before schema 3)

    class Meta:
        indexes = ((("company", "method", "ref"), True),)


class FingerprintTemplate(BaseModel):
    """One sub-template of an enrolled finger, sealed (AES-256-GCM, dakoku_server.template_vault) with keys kept
    outside the database: ``sealed`` the template, ``sealed_code`` its MCC cylinder code (so a cold worker does
    not re-encode). All sub-templates of a finger are written together and share ``version``."""
    company = pw.ForeignKeyField(Company, on_delete="CASCADE")
    employee = pw.ForeignKeyField(Employee, on_delete="CASCADE")
    finger = pw.SmallIntegerField()
    seq = pw.SmallIntegerField()
    sealed = pw.BlobField()
    sealed_code = pw.BlobField()
    version = pw.BigIntegerField(default=0, index=True)
    created_at = pw.DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("employee", "finger", "seq"), True),)


class HelpRegistration(BaseModel):
    company = pw.ForeignKeyField(Company, on_delete="CASCADE")
    employee = pw.ForeignKeyField(Employee, on_delete="CASCADE")
    department = pw.ForeignKeyField(Department, on_delete="CASCADE")
    version = pw.BigIntegerField(default=0)

    class Meta:
        indexes = ((("employee", "department"), True),)


class Recorder(BaseModel):
    company = pw.ForeignKeyField(Company, on_delete="CASCADE")
    code = pw.CharField(max_length=32)
    name = pw.CharField(max_length=200, default="")
    department = pw.ForeignKeyField(Department)
    device = pw.CharField(max_length=16, default="card")
    settings_json = pw.TextField(default="{}")
    version = pw.BigIntegerField(default=0)

    class Meta:
        indexes = ((("company", "code"), True),)


class RecorderSettingsVersion(BaseModel):
    """The history of a recorder's settings overrides: ``settings_json`` as it stood from company version
    ``version`` on. Creating the recorder writes the first row ({}: the defaults), each ``recorders set`` one
    more; the punch upload judges a punch with the row in effect at the version the kiosk judged it under."""
    recorder = pw.ForeignKeyField(Recorder, on_delete="CASCADE")
    version = pw.BigIntegerField()
    settings_json = pw.TextField(default="{}")

    class Meta:
        indexes = ((("recorder", "version"), True),)


class RecorderKey(BaseModel):
    recorder = pw.ForeignKeyField(Recorder, backref="keys", on_delete="CASCADE")
    key_id = pw.CharField(unique=True, max_length=64)
    public_key = pw.BlobField()
    created_at = pw.DateTimeField(default=utcnow)
    revoked_at = pw.DateTimeField(null=True)


class Nonce(BaseModel):
    key_id = pw.CharField(max_length=64)
    nonce = pw.CharField(max_length=64)
    expires_at = pw.DateTimeField(index=True)

    class Meta:
        indexes = ((("key_id", "nonce"), True),)


class Punch(BaseModel):
    uuid = pw.CharField(max_length=36)                # canonical lower-case; unique per company (see Meta)
    company = pw.ForeignKeyField(Company, on_delete="CASCADE")
    recorder = pw.ForeignKeyField(Recorder, null=True, on_delete="SET NULL")
    employee = pw.ForeignKeyField(Employee, null=True, on_delete="SET NULL")
    employee_key = pw.CharField(max_length=64)
    kind = pw.CharField(max_length=16)
    stamped_at = pw.CharField(max_length=40)          # as the kiosk sent it (ISO 8601 with offset)
    stamped_utc = pw.DateTimeField(index=True)
    time_source = pw.CharField(max_length=8)
    offline = pw.BooleanField(default=False)
    auth_method = pw.CharField(max_length=16)
    status = pw.CharField(max_length=10)              # accepted | rejected
    error_key = pw.CharField(max_length=64, default="")
    error_cause = pw.CharField(max_length=4, default="")
    received_at = pw.DateTimeField(default=utcnow)

    class Meta:
        # The re-authentication rule (api_punches) and the timecard read an employee's accepted punches in
        # a time range: with this index that is a seek, not a scan of the employee's whole history (500k
        # punches: 96 ms → 1.5 ms per 500-punch batch). Existing databases get it from create_tables()
        # (every admin command runs it; CREATE INDEX IF NOT EXISTS).
        indexes = ((("employee", "status", "stamped_utc"), False), (("company", "uuid"), True))


class Correction(BaseModel):
    """取り消し (issue 12; dakoku_server.api_corrections): an item of its own naming the punch it cancels; the
    punch's row is never changed. An accepted correction makes its punch count as not made."""
    uuid = pw.CharField(max_length=36)
    company = pw.ForeignKeyField(Company, on_delete="CASCADE")
    recorder = pw.ForeignKeyField(Recorder, null=True, on_delete="SET NULL")
    employee_key = pw.CharField(max_length=64)
    cancels = pw.CharField(max_length=36)             # the punch's UUID
    stamped_at = pw.CharField(max_length=40)
    stamped_utc = pw.DateTimeField()
    time_source = pw.CharField(max_length=8)
    offline = pw.BooleanField(default=False)
    status = pw.CharField(max_length=10)              # accepted | rejected
    error_key = pw.CharField(max_length=64, default="")
    error_cause = pw.CharField(max_length=4, default="")
    received_at = pw.DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("company", "uuid"), True), (("company", "cancels", "status"), False))


class Tombstone(BaseModel):
    company = pw.ForeignKeyField(Company, on_delete="CASCADE")
    kind = pw.CharField(max_length=24)                # employee | credential | help_registration | fingerprint
    key = pw.CharField(max_length=200)
    version = pw.BigIntegerField(index=True)


MODELS = [ServerSetting, Company, AllowedIp, Department, EmploymentType, Employee, Credential,
          FingerprintTemplate, HelpRegistration, Recorder, RecorderSettingsVersion, RecorderKey, Nonce, Punch, Tombstone,
          Correction]


def open_database(url: str) -> pw.Database:
    """Bind the models to the database at ``url`` (``sqlite:///path``, ``postgresql://...``; PostgreSQL needs
    the psycopg2 driver, see docs/server.md). A SQLite file and its -wal/-shm are made 0600 and a folder
    created here 0700, whatever the umask (SQLite gives -wal/-shm the mode of the file; they hold the timecard secret, card keys and password hashes)."""
    # pooled_url: one connection pool per process (dakoku_server.db_pool)
    if url.startswith("sqlite"):
        path = url.split("://", 1)[1][1:].split("?", 1)[0] if "://" in url else ""
        if path and path != ":memory:":
            private_files.prepare_sqlite(path)
        db = url_connect(pooled_url(url), pragmas=SQLITE_PRAGMAS, timeout=15)
    else:                           # postgresql://user:pass@host:port/db?sslmode=...; %-escapes in user/pass
        db = url_connect(pooled_url(url), unquote_password=True, unquote_user=True)
    database.initialize(db)
    return db


def create_tables() -> None:
    """Create missing tables and indexes, then bring an older database up to SCHEMA_VERSION (migrations)."""
    existed = database.table_exists("punch")
    database.create_tables(MODELS, safe=True)
    from dakoku_server import pairing_store, self_check_store     # their models live beside their logic
    database.create_tables(pairing_store.MODELS + self_check_store.MODELS, safe=True)
    migrations.migrate(fresh=not existed)


# pg_advisory_xact_lock key of write_transaction ("Dako"); any constant other code does not use
PG_WRITE_LOCK = 0x44616B6F


def write_transaction():
    """A write transaction, one at a time: the check-then-write code (duplicate checks, the punch rules'
    re-authentication interval, ``bump_version``) relies on no other writer running in between.

    SQLite: the write lock is taken at BEGIN (``BEGIN IMMEDIATE``; no lock-upgrade deadlocks).
    PostgreSQL: the transaction first takes a transaction-scoped advisory lock (released at COMMIT or
    ROLLBACK), which serialises writers the same way; readers are not blocked (MVCC), as on SQLite's WAL.
    """
    db = database.obj
    if isinstance(db, pw.SqliteDatabase):
        return db.atomic("IMMEDIATE")
    if isinstance(db, pw.PostgresqlDatabase):
        return _pg_serialised(db)
    return db.atomic()


@contextmanager
def _pg_serialised(db: pw.PostgresqlDatabase):
    with db.atomic() as txn:
        db.execute_sql("SELECT pg_advisory_xact_lock(%s)", (PG_WRITE_LOCK,))
        yield txn


def bump_version(company: Company) -> int:
    """Next master-data version of ``company`` (call inside a write transaction)."""
    Company.update(data_version=Company.data_version + 1).where(Company.id == company.id).execute()
    company.data_version = Company.get_by_id(company.id).data_version
    return company.data_version


def setting(name: str, default: str = "") -> str:
    row = ServerSetting.get_or_none(ServerSetting.name == name)
    return row.value if row else default


def set_setting(name: str, value: str) -> None:
    # INSERT ... ON CONFLICT DO UPDATE: SQLite (3.24+) and PostgreSQL both have it; REPLACE is SQLite/MySQL only
    (ServerSetting.insert(name=name, value=value)
     .on_conflict(conflict_target=[ServerSetting.name], update={ServerSetting.value: value}).execute())


from dakoku_server import migrations  # noqa: E402  (migrations use the models above)
