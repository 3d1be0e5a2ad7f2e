"""ログを書き出す on real files and real mounts (kiosk/services/log_export.py): a tmp dir stands for /media/<user>,
and each "USB stick" is a real tmpfs mounted under it: a small one is really full, a read-only one really refuses
writes (the tests run as root here and in CI, where chmod would not stop a write). Without the right to mount
(CAP_SYS_ADMIN) the tests that need a medium are skipped, saying so."""
from __future__ import annotations

import random
import subprocess
import zipfile
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from dakoku_core.errors import KioskError
from kiosk.logs import LOG_FILE
from kiosk.services.log_export import LogExportService, human_size, kiosk_summary
from tests.support.tmpfs import MountRefused, TmpfsMounts

CARD_ID = "0123456789ABCDEF"
WHEN = datetime(2026, 12, 3, 0, 30, 5, tzinfo=ZoneInfo("Asia/Tokyo"))   # 00:30 JST: the company's day


@pytest.fixture
def mounts():
    tmpfs = TmpfsMounts()

    def mount(path: Path, size: str = "4m", read_only: bool = False) -> Path:
        try:
            return tmpfs.mount(path, size, read_only)
        except MountRefused as refused:
            pytest.skip(str(refused))

    yield mount
    tmpfs.unmount_all()


def service(tmp_path: Path, logs: Path | None = None) -> LogExportService:
    return LogExportService(logs_dir=logs or tmp_path / "data" / "logs", roots=[tmp_path / "media"],
                            recorder=lambda: "REC 01/店舗", summary=lambda: "Dakoku kiosk 0.1.0\nunsent: 2\n",
                            now=lambda: WHEN)


def write_logs(tmp_path: Path, text: str = "", backups: int = 1) -> Path:
    folder = tmp_path / "data" / "logs"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / LOG_FILE).write_text(text or f"INFO kiosk.punch: punched 出勤\nWARNING card idm={CARD_ID}\n", "utf-8")
    for n in range(1, backups + 1):
        (folder / f"{LOG_FILE}.{n}").write_text(f"INFO older file {n}\n", "utf-8")
    return folder


def failure(call) -> KioskError:
    with pytest.raises(KioskError) as caught:
        call()
    return caught.value


def words(size: int) -> str:
    """Text that compresses poorly and that redaction keeps (no hex runs, no long tokens)."""
    rng = random.Random(13)
    letters = "ghijklmnopqrstuvwxyz"
    return " ".join("".join(rng.choice(letters) for _ in range(rng.randint(3, 7))) for _ in range(size // 6))


def test_one_zip_with_the_logs_redacted_and_the_summary(tmp_path, mounts):
    write_logs(tmp_path, backups=2)
    stick = mounts(tmp_path / "media" / "KIOSKUSB")
    exporter = service(tmp_path)
    [medium] = exporter.media()
    assert medium.path == stick and medium.free_bytes > 3_000_000
    result = exporter.export(medium.path)
    assert result.path == stick / "dakoku-logs-REC_01-20261203-003005.zip"
    assert [p.name for p in stick.iterdir()] == [result.path.name]          # no temporary file left
    assert result.size == result.path.stat().st_size and result.log_files == 3
    with zipfile.ZipFile(result.path) as archive:
        assert sorted(archive.namelist()) == ["logs/kiosk.log", "logs/kiosk.log.1", "logs/kiosk.log.2", "summary.txt"]
        log = archive.read("logs/kiosk.log").decode("utf-8")
        assert "punched 出勤" in log and CARD_ID not in log and "[card]" in log
        assert archive.read("summary.txt").decode("utf-8").startswith("Dakoku kiosk 0.1.0")


def test_several_sticks_are_offered_by_name_and_a_left_over_folder_is_not_one(tmp_path, mounts):
    write_logs(tmp_path)
    second = mounts(tmp_path / "media" / "B-STICK")
    first = mounts(tmp_path / "media" / "A-STICK", size="1m")
    (tmp_path / "media" / "OLD").mkdir()            # unmounted: writing there would fill the kiosk's own disk
    media = service(tmp_path).media()
    assert [m.path for m in media] == [first, second] and media[0].free_bytes < media[1].free_bytes
    assert service(tmp_path).export(second).path.parent == second


def test_no_stick(tmp_path):
    write_logs(tmp_path)
    (tmp_path / "media" / "OLD").mkdir(parents=True)
    assert failure(service(tmp_path).media).key == "log_export_no_medium"
    missing_root = LogExportService(logs_dir=tmp_path, roots=[tmp_path / "nowhere"], recorder=str, summary=str,
                                    now=lambda: WHEN)
    assert failure(missing_root.media).key == "log_export_no_medium"


def test_a_full_stick_keeps_nothing_half_written(tmp_path, mounts):
    write_logs(tmp_path, words(400_000))
    stick = mounts(tmp_path / "media" / "SMALL", size="64k")
    error = failure(lambda: service(tmp_path).export(stick))
    assert error.key == "log_export_medium_full" and "No space" in error.detail
    assert list(stick.iterdir()) == []
    assert (tmp_path / "data" / "logs" / LOG_FILE).stat().st_size > 400_000 * 0.9   # the logs are untouched


def test_a_read_only_stick(tmp_path, mounts):
    write_logs(tmp_path)
    stick = mounts(tmp_path / "media" / "LOCKED", read_only=True)
    error = failure(lambda: service(tmp_path).export(stick))
    assert error.key == "log_export_medium_read_only" and "Read-only" in error.detail
    assert list(stick.iterdir()) == []


def test_a_stick_removed_after_it_was_chosen(tmp_path, mounts):
    write_logs(tmp_path)
    stick = mounts(tmp_path / "media" / "GONE")
    [medium] = service(tmp_path).media()
    subprocess.run(["umount", str(stick)], check=True)
    assert failure(lambda: service(tmp_path).export(medium.path)).key == "log_export_medium_gone"
    assert list(stick.iterdir()) == []                # nothing written to the folder left behind
    stick.rmdir()
    assert failure(lambda: service(tmp_path).export(medium.path)).key == "log_export_medium_gone"


def test_no_logs(tmp_path, mounts):
    stick = mounts(tmp_path / "media" / "KIOSKUSB")
    assert failure(lambda: service(tmp_path).export(stick)).key == "log_export_no_logs"
    (tmp_path / "data" / "logs").mkdir(parents=True)
    assert failure(lambda: service(tmp_path).export(stick)).key == "log_export_no_logs"
    assert list(stick.iterdir()) == []


def test_the_summary_holds_no_secret(tmp_path):
    from kiosk.app_factory import build_kiosk
    from kiosk.settings import ReaderSettings, Settings

    kiosk = build_kiosk(Settings(data_dir=tmp_path, demo=True, reader=ReaderSettings(backend="simulated"),
                                 manager_pin_hash="scrypt$SECRET-HASH-VALUE"))
    try:
        text = kiosk_summary(kiosk, "9.9.9")
    finally:
        kiosk.close()
    assert text.startswith("Dakoku kiosk 9.9.9") and "[outbox]" in text and "unsent: 0" in text
    assert "SECRET-HASH-VALUE" not in text and "manager_pin_hash" not in text
    assert '"backend": "simulated"' in text and str(tmp_path) in text


def test_sizes_read_as_a_person_reads_them():
    assert [human_size(n) for n in (512, 2048, 5_300_000)] == ["512 B", "2.0 KB", "5.1 MB"]
