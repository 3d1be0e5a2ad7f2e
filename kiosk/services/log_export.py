"""ログを書き出す (設定 › 情報): the kiosk's rotating logs and a short diagnosis summary, in one zip file on a USB
stick, for support. Runs on the bridge's worker (disk and USB work), never on the Kivy thread.

- Media: every directory directly under one of the *roots* that is a mount point (udisks mounts a stick at
  ``/media/<user>/<label>`` or ``/run/media/<user>/<label>``). A left-over directory that is no longer mounted is
  not a medium: writing there would fill the kiosk's own disk. Roots: ``DAKOKU_LOG_EXPORT_ROOTS`` (separated by
  ``os.pathsep``) or :func:`default_roots`. Windows (not tested here): removable drive letters
  (``GetDriveTypeW(...) == DRIVE_REMOVABLE``) would be the roots' children.
- Writing: a temporary ``.<name>.part`` in the medium, fsync'd, then renamed; on any failure the temporary file is
  removed, so a medium never holds half a file. Failures are catalogue errors (docs/errors.md § Log export).
- Content: ``logs/kiosk.log*`` (redacted as they were written, kiosk/logs.py; redacted once more on the way out)
  and ``summary.txt`` (version, settings without the manager PIN's hash, the connection without the certificate
  or the proxy's password, the outbox's state)."""
from __future__ import annotations

import errno
import getpass
import io
import json
import os
import re
import zipfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Callable, Sequence

from dakoku_core.durable_files import replace_durably
from dakoku_core.errors import KioskError, Situation, unexpected
from dakoku_core.redaction import redact
from kiosk.logs import LOG_FILE

ENV_ROOTS = "DAKOKU_LOG_EXPORT_ROOTS"
EXPORT = Situation.LOG_EXPORT
FULL = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}
READ_ONLY = {errno.EROFS, errno.EACCES, errno.EPERM}
GONE = {errno.ENOENT, errno.ENODEV, errno.ENXIO, errno.EIO, errno.ESTALE, errno.ENOTDIR}


@dataclass(frozen=True)
class Medium:
    path: Path
    free_bytes: int

    @property
    def name(self) -> str:
        return self.path.name


@dataclass(frozen=True)
class ExportResult:
    path: Path
    size: int
    log_files: int


def default_roots() -> list[Path]:
    if os.environ.get(ENV_ROOTS):
        return [Path(p) for p in os.environ[ENV_ROOTS].split(os.pathsep) if p]
    user = getpass.getuser()
    return [Path("/media") / user, Path("/run/media") / user]


def find_media(roots: Sequence[Path]) -> list[Medium]:
    """The mounted media under ``roots``, by name."""
    media = []
    for root in roots:
        try:
            entries = sorted(p for p in Path(root).iterdir() if p.is_dir() and os.path.ismount(p))
        except OSError:
            continue   # no such root (no stick was ever mounted there), or unreadable
        for path in entries:
            try:
                media.append(Medium(path, _free(path)))
            except OSError:
                continue   # removed while we looked
    return media


def _free(path: Path) -> int:
    stat = os.statvfs(path)
    return stat.f_bavail * stat.f_frsize


class LogExportService:
    def __init__(self, *, logs_dir: Path, recorder: Callable[[], str], summary: Callable[[], str],
                 now: Callable[[], datetime], roots: Sequence[Path] | None = None):
        self._logs_dir = Path(logs_dir)
        self._recorder, self._summary, self._now = recorder, summary, now
        self._roots = list(roots) if roots is not None else None

    def media(self) -> list[Medium]:
        """The media to choose from; none: ``log_export_no_medium``."""
        media = find_media(self._roots if self._roots is not None else default_roots())
        if not media:
            raise KioskError("log_export_no_medium", situation=EXPORT)
        return media

    def log_files(self) -> list[Path]:
        try:
            files = [p for p in self._logs_dir.glob(f"{LOG_FILE}*") if p.is_file()]
        except OSError:
            files = []
        return sorted(files, key=lambda p: (len(p.name), p.name))   # kiosk.log, kiosk.log.1, ...

    def export(self, medium: Path) -> ExportResult:
        """Write the zip to ``medium`` (fsync'd, renamed into place); a catalogue error and no file otherwise."""
        files = self.log_files()
        if not files:
            raise KioskError("log_export_no_logs", situation=EXPORT, detail=str(self._logs_dir))
        if not medium.is_dir() or not os.path.ismount(medium):
            raise KioskError("log_export_medium_gone", situation=EXPORT, detail=str(medium))
        name = self.file_name()
        payload = self._zip(files)
        target, part = medium / name, medium / f".{name}.part"
        try:
            replace_durably(target, payload, temp=part)
        except OSError as exc:
            raise _classify(exc, medium) from exc
        return ExportResult(target, len(payload), len(files))

    def file_name(self) -> str:
        recorder = re.sub(r"[^A-Za-z0-9_-]+", "_", self._recorder() or "kiosk").strip("_") or "kiosk"
        return f"dakoku-logs-{recorder}-{self._now():%Y%m%d-%H%M%S}.zip"

    def _zip(self, files: list[Path]) -> bytes:
        """Built in memory (the logs are at most 5 MB): a read error is ours, a write error the medium's."""
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for path in files:
                try:
                    text = path.read_text("utf-8", errors="replace")
                except OSError as exc:
                    raise KioskError("log_export_no_logs", situation=EXPORT, detail=f"{path}: {exc}") from exc
                archive.writestr(f"logs/{path.name}", redact(text))
            archive.writestr("summary.txt", self._summary())
        return buffer.getvalue()


def _classify(exc: OSError, medium: Path) -> KioskError:
    detail = f"{medium}: {exc}"
    if exc.errno in FULL:
        return KioskError("log_export_medium_full", situation=EXPORT, detail=detail)
    if exc.errno in READ_ONLY:
        return KioskError("log_export_medium_read_only", situation=EXPORT, detail=detail)
    if exc.errno in GONE or not os.path.ismount(medium):
        return KioskError("log_export_medium_gone", situation=EXPORT, detail=detail)
    return unexpected(exc, EXPORT)


def for_kiosk(kiosk, version: str) -> LogExportService:
    """The export of this kiosk's ``DATA_DIR/logs``, named after its recorder, stamped in the company's time."""
    return LogExportService(logs_dir=kiosk.settings.data_dir / "logs", summary=lambda: kiosk_summary(kiosk, version),
                            recorder=lambda: getattr(kiosk.master.recorder(), "code", ""),
                            now=lambda: kiosk.clock.read().at.astimezone(kiosk.settings.tz))


def kiosk_summary(kiosk, version: str) -> str:
    """The diagnosis summary for support: nothing secret (no PIN hash, certificate, proxy password, card IDs)."""
    settings = json.loads(kiosk.settings.to_json())
    settings.pop("manager_pin_hash", None)
    lines = [f"Dakoku kiosk {version}", f"written: {kiosk.clock.read().at.astimezone(kiosk.settings.tz).isoformat()}",
             "", "[settings]", json.dumps(settings, ensure_ascii=False, indent=2), "", "[connection]"]
    try:
        parsed = kiosk.sync.connection_file.load_parsed()
    except KioskError as error:
        parsed, lines = None, lines + [f"unreadable: {error.key}"]
    if parsed is not None:
        conn_settings, connection, _certificate = parsed
        lines += [f"url: {connection.url}", f"company: {connection.company}", f"recorder: {connection.recorder}",
                  f"department: {connection.department}", f"proxy: {_masked(conn_settings.proxy_url) or '-'}"]
    status = kiosk.status.snapshot(0)
    oldest = status.oldest_unsent.isoformat() if status.oldest_unsent else "-"
    lines += ["", "[outbox]", f"online: {status.online}", f"punches: {kiosk.punches.count()}",
              f"unsent: {status.unsent}", f"oldest unsent: {oldest}", f"refused: {status.refused}"]
    return redact("\n".join(lines) + "\n")


def _masked(url: str) -> str:
    scheme, sep, rest = (url or "").partition("://")
    if sep and "@" in rest.split("/", 1)[0]:
        return f"{scheme}://***@{rest.split('@', 1)[1]}"
    return url or ""


def human_size(size: int) -> str:
    """512 B, 2.0 KB, 5.1 MB (binary units, as file managers show them)."""
    if size < 1024:
        return f"{size} B"
    value, unit = size / 1024, "KB"
    for bigger in ("MB", "GB"):
        if value < 1024:
            break
        value, unit = value / 1024, bigger
    return f"{value:.1f} {unit}"
