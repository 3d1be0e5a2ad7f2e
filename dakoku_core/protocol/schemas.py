"""JSON Schemas (draft 2020-12) of the Recorder API request bodies, checked by the server, and of the
main responses, which a client may check. docs/api/openapi.yaml describes the same shapes."""
from __future__ import annotations

CODE = {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,32}$"}
KEY = {"type": "string", "minLength": 1, "maxLength": 64}
# Canonical only: lower-case, exactly 36 characters (the lengths also refuse "<uuid>\n", which "$" lets through)
UUID = {"type": "string", "minLength": 36, "maxLength": 36,
        "pattern": "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"}
DATETIME = {"type": "string", "format": "date-time", "maxLength": 40}
METHOD = {"enum": ["card", "fingerprint"]}
REF = {"type": "string", "pattern": "^[0-9a-zA-Z_-]{8,128}$"}
MAX_PUNCHES_PER_BATCH = 500
MASTER_VERSION = {"type": "integer", "minimum": 0, "maximum": 2**63 - 1}
FINGER = {"type": "integer", "minimum": 0, "maximum": 9}
MAX_SUB_TEMPLATES = 8
MAX_TEMPLATE_BYTES = 16 * 1024                      # decoded FingerprintTemplate.to_bytes()
TEMPLATE_B64 = {"type": "string", "minLength": 1, "maxLength": 4 * ((MAX_TEMPLATE_BYTES + 2) // 3)}

PUNCH = {
    "type": "object",
    "required": ["uuid", "employee_key", "kind", "stamped_at", "time_source", "offline", "auth_method"],
    "properties": {
        "uuid": UUID,
        "employee_key": KEY,
        "kind": {"enum": ["clock_in", "clock_out", "break_start", "break_end"]},
        "stamped_at": DATETIME,
        "time_source": {"enum": ["ntp", "server", "local"]},
        "offline": {"type": "boolean"},
        "auth_method": {"enum": ["card", "fingerprint", "password"]},
        "recorder_code": CODE,
        # the master-data version the kiosk judged the punch under: the server judges it with the recorder
        # settings of that version (dakoku_server.settings_history); absent (older kiosks): the current ones
        "master_version": MASTER_VERSION,
    },
    "additionalProperties": False,
}

# 取り消し (issue 12): an item of the same batch, kind "cancel", naming the punch it cancels (dakoku_server.api_corrections)
CORRECTION = {
    "type": "object",
    "required": ["uuid", "kind", "cancels", "employee_key", "stamped_at", "time_source", "offline"],
    "properties": {
        "uuid": UUID,
        "kind": {"const": "cancel"},
        "cancels": UUID,
        "employee_key": KEY,
        "stamped_at": DATETIME,
        "time_source": {"enum": ["ntp", "server", "local"]},
        "offline": {"type": "boolean"},
        "recorder_code": CODE,
    },
    "additionalProperties": False,
}

PUNCH_BATCH = {
    "type": "object",
    "required": ["punches"],
    "properties": {"punches": {"type": "array", "minItems": 1, "maxItems": MAX_PUNCHES_PER_BATCH,
                               "items": {"type": "object"}}},
    "additionalProperties": False,
}

CREDENTIAL_REGISTRATION = {
    "type": "object",
    "required": ["employee_key", "method", "ref"],
    "properties": {"employee_key": KEY, "method": METHOD, "ref": REF},
    "additionalProperties": False,
}

HELP_REGISTRATION = {
    "type": "object",
    "required": ["employee_key"],
    "properties": {"employee_key": KEY, "department_code": CODE},
    "additionalProperties": False,
}

FINGERPRINT_REGISTRATION = {
    "type": "object",
    "required": ["employee_key", "templates"],      # no finger: the server picks the lowest free one
    "properties": {"employee_key": KEY, "finger": FINGER,
                   "templates": {"type": "array", "minItems": 1, "maxItems": MAX_SUB_TEMPLATES,
                                 "items": {"type": "string", "minLength": 1}}},
    "additionalProperties": False,
}

TIMECARD_URL_REQUEST = {
    "type": "object",
    "properties": {"ttl_seconds": {"type": "integer", "minimum": 1, "maximum": 600}},
    "additionalProperties": False,
}

PUNCH_RESULT = {
    "type": "object",
    "required": ["uuid", "status"],
    "properties": {
        "uuid": {"type": "string"},
        "status": {"enum": ["accepted", "duplicate", "rejected"]},
        "recorded_status": {"enum": ["accepted", "rejected"]},
        "error": {"type": "object", "required": ["key"]},
    },
}

PUNCH_BATCH_RESULT = {
    "type": "object",
    "required": ["results"],
    "properties": {"results": {"type": "array", "items": PUNCH_RESULT}},
}

MASTER_DATA = {
    "type": "object",
    "required": ["version", "full", "company", "card_key", "recorder", "departments", "employment_types",
                 "employees", "credentials", "help_registrations", "deleted"],
    "properties": {
        "version": {"type": "integer", "minimum": 0},
        "full": {"type": "boolean"},
        "card_key": {"type": "string", "minLength": 22},
        "departments": {"type": "array"},
        "employment_types": {"type": "array"},
        "employees": {"type": "array"},
        "credentials": {"type": "array"},
        "help_registrations": {"type": "array"},
        "deleted": {"type": "array"},
    },
}

FINGERPRINT_SET = {
    "type": "object",
    "required": ["version", "full", "since", "fingers", "deleted"],
    "properties": {
        "version": {"type": "integer", "minimum": 0},
        "full": {"type": "boolean"},
        "since": {"type": ["integer", "null"]},
        "fingers": {"type": "array", "items": {
            "type": "object", "required": ["employee_key", "finger", "version", "templates"],
            "properties": {"employee_key": KEY, "finger": FINGER, "version": {"type": "integer"},
                           "templates": {"type": "array", "minItems": 1, "maxItems": MAX_SUB_TEMPLATES,
                                         "items": TEMPLATE_B64}}}},
        "deleted": {"type": "array", "items": {
            "type": "object", "required": ["employee_key", "finger", "version"],
            "properties": {"employee_key": KEY, "finger": FINGER, "version": {"type": "integer"}}}},
    },
}
