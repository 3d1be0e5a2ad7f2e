"""The kiosk's log: stderr (the journal, under systemd) and size-bounded rotating files in the data directory
(``DATA_DIR/logs/kiosk.log`` and at most :data:`BACKUPS` older ones). Every record is redacted as it is
made (:func:`redact_record`), so neither holds a card ID, a password, a template or a timecard token
(the rules: dakoku_core/redaction.py, shared with the server)."""
from __future__ import annotations

import logging
import os
import sys
from logging.handlers import RotatingFileHandler
from pathlib import Path

from dakoku_core.redaction import redact

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
LOG_FILE = "kiosk.log"
MAX_BYTES = 1_000_000     # per file
BACKUPS = 4               # kiosk.log.1 .. .4: at most 5 MB of logs
QUIET = {"peewee": logging.WARNING, "urllib3": logging.INFO}
# Kivy's records go to the kiosk's handlers (redacted, in DATA_DIR/logs), not to Kivy's own console and
# ~/.kivy/logs files. Set before Kivy is imported (the kiosk imports it only when a window is wanted).
os.environ.setdefault("KIVY_LOG_MODE", "PYTHON")


def redact_record(record: logging.LogRecord) -> logging.LogRecord:
    """Formats the record's message (and its traceback) once and redacts it (idempotent)."""
    if getattr(record, "redacted", False):
        return record
    record.msg, record.args, record.redacted = redact(record.getMessage()), None, True
    if record.exc_info and not record.exc_text:
        record.exc_text = logging.Formatter().formatException(record.exc_info)
    if record.exc_text:
        record.exc_text = redact(record.exc_text)
    if record.stack_info:
        record.stack_info = redact(record.stack_info)
    return record


class RedactingFilter(logging.Filter):
    """On the kiosk's own handlers, for records made before :class:`KioskLogs` installed its record factory."""

    def filter(self, record: logging.LogRecord) -> bool:
        redact_record(record)
        return True


class KioskLogs:
    """The handlers the ``kiosk`` command installs on the root logger, and removes again on :meth:`stop`."""

    def __init__(self, level: int = logging.INFO):
        self.root = logging.getLogger()
        self.handlers: list[logging.Handler] = []
        self._previous_level = self.root.level
        self.root.setLevel(level)
        # Redacted as the record is made, so every handler sees only the redacted record: ours, Kivy's own
        # log, anything a library attaches to the root logger.
        self._previous_factory = logging.getLogRecordFactory()
        make = self._previous_factory
        logging.setLogRecordFactory(lambda *args, **kwargs: redact_record(make(*args, **kwargs)))
        for name, quiet in QUIET.items():
            logging.getLogger(name).setLevel(quiet)
        self._add(logging.StreamHandler(sys.stderr))

    def to_files(self, data_dir: Path) -> Path | None:
        """Also write ``data_dir/logs/kiosk.log``; None (and a warning on stderr) if it cannot be created."""
        folder = Path(data_dir) / "logs"
        try:
            folder.mkdir(parents=True, exist_ok=True)
            handler = RotatingFileHandler(folder / LOG_FILE, maxBytes=MAX_BYTES, backupCount=BACKUPS,
                                          encoding="utf-8")
        except OSError as exc:
            logging.getLogger(__name__).warning("no log files in %s: %s", folder, exc)
            return None
        self._add(handler)
        return folder / LOG_FILE

    def _add(self, handler: logging.Handler) -> None:
        handler.setFormatter(logging.Formatter(FORMAT))
        handler.addFilter(RedactingFilter())
        self.root.addHandler(handler)
        self.handlers.append(handler)

    def stop(self) -> None:
        for handler in self.handlers:
            self.root.removeHandler(handler)
            handler.close()
        self.handlers.clear()
        self.root.setLevel(self._previous_level)
        logging.setLogRecordFactory(self._previous_factory)
