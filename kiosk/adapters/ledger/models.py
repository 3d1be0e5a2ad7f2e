"""peewee models of the ledger. The schema itself is created by the migrations in ``db.py``."""
from __future__ import annotations

import peewee as pw

database_proxy = pw.DatabaseProxy()


class BaseModel(pw.Model):
    class Meta:
        database = database_proxy
        legacy_table_names = False


class PunchRow(BaseModel):
    uuid = pw.CharField(primary_key=True)
    employee_key = pw.CharField()
    kind = pw.CharField()
    stamped_at_utc = pw.CharField()      # ISO 8601, UTC, microseconds: sorts as text
    utc_offset_min = pw.IntegerField()   # the kiosk's local offset when punched
    time_source = pw.CharField()
    offline = pw.BooleanField()
    auth_method = pw.CharField()
    recorder_code = pw.CharField()
    created_at_utc = pw.CharField()
    sync_state = pw.CharField(default="pending")   # pending / synced / rejected
    sync_attempts = pw.IntegerField(default=0)
    last_error = pw.CharField(default="")
    synced_at_utc = pw.CharField(default="")
    seq = pw.IntegerField(null=True)               # the order punches were made in (migration 6)
    master_version = pw.IntegerField(null=True)    # whose recorder settings judged it (migration 8; NULL before)
    cancels = pw.CharField(null=True)              # kind 'cancel': the UUID of the punch it cancels (migration 9)

    class Meta:
        table_name = "punch"


class DepartmentRow(BaseModel):
    code = pw.CharField(primary_key=True)
    name = pw.CharField()

    class Meta:
        table_name = "department"


class EmploymentTypeRow(BaseModel):
    code = pw.CharField(primary_key=True)
    name = pw.CharField()
    break_punch_allowed = pw.BooleanField()

    class Meta:
        table_name = "employment_type"


class EmployeeRow(BaseModel):
    key = pw.CharField(primary_key=True)
    code = pw.CharField()
    login_id = pw.CharField(default="")
    last_name = pw.CharField()
    first_name = pw.CharField()
    kana = pw.CharField(default="")
    department_code = pw.CharField()
    employment_type_code = pw.CharField()
    hired_on = pw.DateField(null=True)
    retired_on = pw.DateField(null=True)
    password_punch_allowed = pw.BooleanField(default=False)
    password_hash = pw.CharField(default="")

    class Meta:
        table_name = "employee"


class CredentialRow(BaseModel):
    method = pw.CharField()
    ref = pw.CharField()
    employee_key = pw.CharField()

    class Meta:
        table_name = "credential"
        primary_key = pw.CompositeKey("method", "ref")


class HelpRegistrationRow(BaseModel):
    employee_key = pw.CharField()
    department_code = pw.CharField()

    class Meta:
        table_name = "help_registration"
        primary_key = pw.CompositeKey("employee_key", "department_code")


class MetaRow(BaseModel):
    """Small key/value facts: the recorder identity, the card-hash key, the master data version."""

    key = pw.CharField(primary_key=True)
    value = pw.TextField()

    class Meta:
        table_name = "meta"
