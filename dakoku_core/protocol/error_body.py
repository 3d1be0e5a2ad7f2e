"""The JSON error body of the Recorder API, shared by the server (which writes it) and the kiosk (which
turns it back into a :class:`KioskError`)::

    {"error": {"key": "ip_not_allowed", "code": "009", "message": "...", "message_en": "...",
               "reason": "ip_not_allowed", "cause_letter": null, "context": {}}}

``key`` is the catalogue key (the only thing a client acts on), ``code`` its catalogue code or null,
``message``/``message_en`` the catalogue message for convenience, ``reason`` a short machine word naming the
server-side cause (for logs and tests; e.g. ``bad_signature``, ``key_revoked``, ``nonce_replayed``,
``not_found``), ``context`` the placeholders of the message (e.g. ``name`` and ``code``).
"""
from __future__ import annotations

from dakoku_core.errors import KioskError, Situation, catalogue


def error_body(error: KioskError, reason: str = "", **extra: object) -> dict:
    body = {"key": error.key, "code": error.code, "message": error.message("ja"),
            "message_en": error.message("en"), "reason": reason or error.key,
            "cause_letter": error.cause_letter, "context": dict(error.context)}
    body.update(extra)
    return {"error": body}


def error_from_body(body: object, situation: Situation | None = None) -> KioskError | None:
    """The KioskError an API error body stands for, or None when the body is not one (or names a key this
    kiosk's catalogue does not know: the caller then treats it as ``server_error``)."""
    if not isinstance(body, dict) or not isinstance(body.get("error"), dict):
        return None
    error = body["error"]
    key = error.get("key")
    if not isinstance(key, str) or key not in catalogue():
        return None
    context = error.get("context") if isinstance(error.get("context"), dict) else {}
    letter = error.get("cause_letter") if isinstance(error.get("cause_letter"), str) else None
    return KioskError(key, situation=situation, cause_letter=letter, context=context,
                      detail=str(error.get("reason", "")))
