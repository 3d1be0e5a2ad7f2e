"""ログを書き出す in 設定 › 情報, touch by touch on the real screens (offline demo), with the kiosk's real log files
(kiosk/logs.py) and real tmpfs "USB sticks" mounted under a tmp dir that stands for /media/<user>: one stick is
written at once, two are offered to choose from, a read-only one and none at all are catalogue errors that leave
nothing behind; each export is in the audit log, in Japanese. Rendered at three sizes."""
from __future__ import annotations

import logging
import subprocess
import zipfile
from pathlib import Path

import pytest

from kivy_harness import advance, running_app, screenshot, touch, wait_until
from registration_screens import open_settings
from kiosk.services.log_export import human_size
from tests.support.tmpfs import MountRefused, TmpfsMounts

pytestmark = [pytest.mark.ui, pytest.mark.timeout(300)]
SIZES = [(1280, 800), (1920, 1080), (800, 1280)]
CARD_ID = "0123456789ABCDEF"


@pytest.fixture
def media(tmp_path, monkeypatch):
    root = tmp_path / "media"
    root.mkdir()
    monkeypatch.setenv("DAKOKU_LOG_EXPORT_ROOTS", str(root))
    tmpfs = TmpfsMounts()

    def mount(name: str, read_only: bool = False) -> Path:
        try:
            return tmpfs.mount(root / name, read_only=read_only)
        except MountRefused as refused:
            pytest.skip(str(refused))

    yield mount
    tmpfs.unmount_all()


@pytest.fixture
def kiosk_logs(tmp_path):
    from kiosk.logs import KioskLogs

    logs = KioskLogs()
    assert logs.to_files(tmp_path) is not None
    logging.getLogger("kiosk.test").warning("card read: %s", CARD_ID)
    yield logs
    logs.stop()


def button(app, label: str):
    return next(b for b in app.settings_screen.ids.actions.children if b.text == label)


def open_info(app) -> None:
    open_settings(app)
    touch(app.settings_screen._section_buttons["info"])
    wait_until(lambda: len(app.settings_screen.ids.rows.children) >= 6)


def export_and_wait(app) -> None:
    touch(button(app, "ログを書き出す"))
    wait_until(lambda: app.presenter.is_open or app.settings_screen.notice.startswith("書き出しました")
               or any(getattr(c, "text", "").endswith(")") for c in app.settings_screen.ids.rows.children),
               timeout=20)


def audit_lines(app) -> list[str]:
    return [f"{action}: {outcome}: {detail}" for _at, action, outcome, detail in app.kiosk.manager.recent(10)]


def test_one_stick_is_written_at_once_and_the_export_is_audited(window, tmp_path, media, kiosk_logs):
    stick = media("KIOSKUSB")
    with running_app(window, tmp_path) as app:
        open_info(app)
        for size in SIZES:
            window.size = size
            advance(8)
            screenshot(window, f"settings_info_{size[0]}x{size[1]}")
        window.size = (1280, 800)
        advance(5)
        export_and_wait(app)
        screen = app.settings_screen
        assert not app.presenter.is_open and "書き出しました: KIOSKUSB/dakoku-logs-R001-" in screen.notice, screen.notice
        [written] = list(stick.iterdir())
        assert written.suffix == ".zip" and f"({human_size(written.stat().st_size)})" in screen.notice
        with zipfile.ZipFile(written) as archive:
            log = archive.read("logs/kiosk.log").decode("utf-8")
            summary = archive.read("summary.txt").decode("utf-8")
        assert "card read: [card]" in log and CARD_ID not in log and "[outbox]" in summary
        wait_until(lambda: any("ログ書き出し: 完了" in r.value for r in screen.ids.rows.children))   # in Japanese
        assert [a for a in audit_lines(app) if a.startswith("settings.log_export")][:2] == [
            f"settings.log_export: done: KIOSKUSB/{written.name} {human_size(written.stat().st_size)}",
            "settings.log_export: run: KIOSKUSB"]
        screenshot(window, "settings_info_exported")


def test_two_sticks_the_manager_chooses_by_touch(window, tmp_path, media, kiosk_logs):
    media("A-STICK")
    second = media("B-STICK")
    with running_app(window, tmp_path) as app:
        open_info(app)
        export_and_wait(app)
        screen = app.settings_screen
        assert screen.notice == "書き出し先のUSBメモリを選んでください"
        choices = {b.text.split()[0]: b for b in screen.ids.rows.children}
        assert sorted(choices) == ["A-STICK", "B-STICK"] and "空き" in choices["B-STICK"].text
        screenshot(window, "settings_info_choose")
        touch(choices["B-STICK"])
        wait_until(lambda: screen.notice.startswith("書き出しました"), timeout=20)
        assert [p.suffix for p in second.iterdir()] == [".zip"] and not list((second.parent / "A-STICK").iterdir())


def test_a_read_only_stick_and_no_stick_are_catalogue_errors(window, tmp_path, media, kiosk_logs):
    locked = media("LOCKED", read_only=True)
    with running_app(window, tmp_path) as app:
        open_info(app)
        export_and_wait(app)
        assert app.presenter.current.key == "log_export_medium_read_only" and list(locked.iterdir()) == []
        screenshot(window, "settings_info_read_only")
        app.presenter.dismiss()
        wait_until(lambda: not app.presenter.is_open)
        subprocess.run(["umount", str(locked)], check=True)
        export_and_wait(app)
        assert app.presenter.current.key == "log_export_no_medium"
        assert not button(app, "ログを書き出す").disabled        # the manager can try again
        wait_until(lambda: len([a for a in audit_lines(app) if a.startswith("settings.log_export: failed")]) == 2)
        failed = [a for a in audit_lines(app) if a.startswith("settings.log_export: failed")]
        assert failed == ["settings.log_export: failed: log_export_no_medium",
                              "settings.log_export: failed: log_export_medium_read_only"]
