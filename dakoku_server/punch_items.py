"""The shape check of one punch item of POST /v1/punches (dakoku_server.api_punches): a hand-written fast
test that only ever *accepts* what the PUNCH schema accepts, and the compiled validator for everything else,
which decides and words the reason. A malformed item is ``rejected`` alone; the batch goes on."""
from __future__ import annotations

import re

import jsonschema

from dakoku_core.errors import KioskError
from dakoku_core.protocol.error_body import error_body
from dakoku_core.protocol.schemas import PUNCH
from dakoku_server.api_base import schema_error_reason

_FORMATS = jsonschema.FormatChecker()
_VALIDATOR = jsonschema.Draft202012Validator(PUNCH, format_checker=_FORMATS)
# The fast item check (see _plainly_valid). It must never accept an item the schema rejects.
_PROPS = PUNCH["properties"]
_REQUIRED = frozenset(PUNCH["required"])
_ALLOWED = frozenset(_PROPS)
_UUID_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")     # canonical only
_CODE_RE = re.compile(r"[A-Za-z0-9_-]{1,32}")
_KINDS = frozenset(_PROPS["kind"]["enum"])
_SOURCES = frozenset(_PROPS["time_source"]["enum"])
_METHODS = frozenset(_PROPS["auth_method"]["enum"])
_KEY_MIN, _KEY_MAX = _PROPS["employee_key"]["minLength"], _PROPS["employee_key"]["maxLength"]
_STAMP_MAX = _PROPS["stamped_at"]["maxLength"]
_VERSION_MAX = _PROPS["master_version"]["maximum"]
_CHECK_DATETIME = "date-time" in _FORMATS.checkers     # only when rfc3339-validator is installed


def _plainly_valid(item: dict) -> bool:
    """True only for an item the PUNCH schema accepts (the common case, ~50x faster than jsonschema).
    False means "ask the validator", not "invalid"."""
    keys = item.keys()
    if not (_REQUIRED <= keys <= _ALLOWED):
        return False
    uuid, key, stamped = item["uuid"], item["employee_key"], item["stamped_at"]
    code = item.get("recorder_code", "R")
    version = item.get("master_version", 0)
    return (type(uuid) is str and _UUID_RE.fullmatch(uuid) is not None
            and type(key) is str and _KEY_MIN <= len(key) <= _KEY_MAX
            and type(item["kind"]) is str and item["kind"] in _KINDS
            and type(stamped) is str and len(stamped) <= _STAMP_MAX
            and (not _CHECK_DATETIME or _FORMATS.conforms(stamped, "date-time"))
            and type(item["time_source"]) is str and item["time_source"] in _SOURCES
            and type(item["offline"]) is bool
            and type(item["auth_method"]) is str and item["auth_method"] in _METHODS
            and type(code) is str and _CODE_RE.fullmatch(code) is not None
            and type(version) is int and 0 <= version <= _VERSION_MAX)


def invalid(item: dict, recorder) -> dict | None:
    """The ``rejected`` result of an item that is not a well-formed punch for this recorder, else None."""
    if isinstance(item, dict) and _plainly_valid(item):
        problem = None
    else:
        problem = jsonschema.exceptions.best_match(_VALIDATOR.iter_errors(item))
    if problem is not None or item.get("recorder_code", recorder.code) != recorder.code:
        uuid = str(item.get("uuid", "")) if isinstance(item, dict) else ""
        # where and which rule (dakoku_server.api_base), never jsonschema's message: it quotes the value
        reason = schema_error_reason(problem) if problem is not None else "recorder_code does not match the key"
        return {"uuid": uuid, "status": "rejected",
                "error": error_body(KioskError("unexpected"), f"invalid_punch: {reason}")["error"]}
    return None


def unparseable(uuid: str, _exc: ValueError) -> dict:
    """The result of a stamp that passed the schema but is not a datetime with an offset (the parser's message,
    which quotes the text, stays out of the answer)."""
    return {"uuid": uuid, "status": "rejected",
            "error": error_body(KioskError("unexpected"), "invalid_punch: stamped_at: not ISO 8601 with an offset")
            ["error"]}
