"""Timecard tokens never reach a log (issue 10, item 6): anyone who reads ``/timecard/<token>`` in a log could
open that employee's timecard until the link expires.

:func:`redact` replaces the token in any text (the rule is dakoku_core/redaction.py's, shared with the kiosk's log);
:class:`RedactingLogger` is gunicorn's logger with every atom of the access log (request line, path, query,
referer, raw URI) passed through it; the Flask error log uses :func:`redact` on the path; the nginx front
(dakoku_server.front_proxy) logs ``$redacted_uri`` instead of the URI.
"""
from __future__ import annotations

from gunicorn.glogging import Logger

from dakoku_core.redaction import redact_timecard as redact


class RedactingLogger(Logger):
    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        return {name: redact(value) if isinstance(value, str) else value for name, value in atoms.items()}
