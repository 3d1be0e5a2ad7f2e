"""The composition root with the real reference server: a provisioned kiosk pulls its master data at
start, punches online, and the outbox delivers each punch to the server exactly once."""
from __future__ import annotations

import time

import pytest

from kiosk.adapters.connection_file import ConnectionFile
from kiosk.app_factory import build_kiosk
from dakoku_core.demo import demo_card
from dakoku_core.domain.model import PunchKind
from kiosk.ports.recorder_api import ConnectionSettings
from kiosk.settings import ReaderSettings, Settings

pytestmark = pytest.mark.timeout(120)


def provisioned_kiosk(sync_server, tmp_path, *, started=True, **options):
    """A kiosk whose connection file holds the demo recorder's texts (as after 接続先変更); ``started``:
    its background work runs and its master data has arrived."""
    ConnectionFile(tmp_path).save(ConnectionSettings(sync_server.demo.connection_text,
                                                     sync_server.demo.certificate_text))
    kiosk = build_kiosk(Settings(data_dir=tmp_path, reader=ReaderSettings(backend="simulated")), **options)
    if started:
        kiosk.start_background()
        wait_for(lambda: kiosk.master.recorder() is not None)
    return kiosk


def wait_for(predicate, timeout=20.0):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "not reached in time"
        time.sleep(0.05)


def test_provisioned_kiosk_pulls_master_data_punches_online_and_syncs(sync_server, tmp_path):
    kiosk = provisioned_kiosk(sync_server, tmp_path, started=False)
    try:
        assert kiosk.startup_errors == []                       # provisioned: no 008 while the pull runs
        kiosk.start_background()
        wait_for(lambda: kiosk.master.recorder() is not None)  # pulled in the background at start
        assert kiosk.master.recorder().code == "R001"
        wait_for(kiosk.sync.sync.is_online)                     # the outbox worker reached the server
        result = kiosk.punch_service.punch_with_card(PunchKind.CLOCK_IN, demo_card("normal").card_id)
        assert result.punch.offline is False
        wait_for(lambda: kiosk.status.snapshot(0).unsent == 0)
        assert sync_server.punch_rows([result.punch.uuid]) == {result.punch.uuid: 1}
        assert kiosk.status.snapshot(0).online is True
    finally:
        kiosk.close()


def test_unprovisioned_kiosk_stays_off_the_network(tmp_path):
    kiosk = build_kiosk(Settings(data_dir=tmp_path, reader=ReaderSettings(backend="simulated")))
    try:
        kiosk.start_background()
        assert not kiosk.sync.configured and kiosk.sync.sync.is_online() is False
        assert kiosk.sync.scheduler._thread is None and kiosk.sync.time_sync._thread is None
        assert [e.key for e in kiosk.startup_errors] == ["startup_data_missing"]
    finally:
        kiosk.close()


def test_corrupt_connection_file_is_010_at_start_and_the_kiosk_still_starts(tmp_path):
    (tmp_path / "connection.json").write_text("{broken", "utf-8")
    kiosk = build_kiosk(Settings(data_dir=tmp_path, reader=ReaderSettings(backend="simulated")))
    try:
        assert [e.code for e in kiosk.startup_errors][:1] == ["010"]
    finally:
        kiosk.close()


class RecordingBrowser:
    def __init__(self):
        self.urls = []

    def open(self, url: str) -> None:
        self.urls.append(url)


def test_timecard_opens_a_working_server_link_for_the_tapped_card(sync_server, tmp_path):
    import requests

    browser = RecordingBrowser()
    kiosk = provisioned_kiosk(sync_server, tmp_path, browser=browser)
    try:
        employee = kiosk.timecard.open_for_card(demo_card("normal").card_id)
        assert employee.code == "1001" and len(browser.urls) == 1
        page = requests.get(browser.urls[0], verify=str(sync_server.process.tls_dir / "ca.pem"), timeout=10)
        assert page.status_code == 200 and "山田" in page.text
        with pytest.raises(Exception) as info:
            kiosk.timecard.open_for_card(demo_card("unknown").card_id)
        assert getattr(info.value, "key", None) == "auth_failed"
    finally:
        kiosk.close()


def test_register_punch_and_delete_a_new_card_against_the_server(sync_server, tmp_path):
    from dakoku_core.errors import KioskError

    kiosk = provisioned_kiosk(sync_server, tmp_path)
    new_card = "0A0B0C0D0E0F1011"
    try:
        kiosk.start_background()
        wait_for(kiosk.sync.sync.is_online)
        suzuki = kiosk.registration.employee_by_code("1003")
        kiosk.registration.register(suzuki, new_card, new_card)
        assert kiosk.punch_service.punch_with_card(PunchKind.CLOCK_IN, new_card).employee.code == "1003"
        with pytest.raises(KioskError) as info:          # the same card for someone else: refused
            kiosk.registration.register(kiosk.registration.employee_by_code("1001"), new_card, new_card)
        assert info.value.key == "credential_duplicate"
        with pytest.raises(KioskError) as info:          # 山田 chosen, 鈴木's card tapped: refused
            kiosk.registration.delete(kiosk.registration.employee_by_code("1001"), new_card)
        assert info.value.key == "card_belongs_to_other" and "鈴木 一郎" in info.value.message()
        assert kiosk.registration.delete(suzuki, new_card).code == "1003"
        with pytest.raises(KioskError) as info:
            kiosk.punch_service.punch_with_card(PunchKind.CLOCK_OUT, new_card)
        assert (info.value.key, info.value.cause_letter) == ("auth_failed", "A")
    finally:
        kiosk.close()


def test_help_registration_lets_another_department_punch_here(sync_server, tmp_path):
    from dakoku_core.errors import KioskError

    kiosk = provisioned_kiosk(sync_server, tmp_path)
    card = demo_card("other_department").card_id   # 伊藤 (店舗) at the 本社 recorder
    try:
        kiosk.start_background()
        wait_for(kiosk.sync.sync.is_online)
        with pytest.raises(KioskError) as info:
            kiosk.punch_service.punch_with_card(PunchKind.CLOCK_IN, card)
        assert (info.value.key, info.value.cause_letter) == ("auth_failed", "C")
        result = kiosk.help_registration.register_by_card(card)
        assert result.created and result.employee.code == "1006"
        assert kiosk.punch_service.punch_with_card(PunchKind.CLOCK_IN, card).employee.code == "1006"
        assert kiosk.help_registration.register_by_card(card).created is False   # already: nothing to do
    finally:
        kiosk.close()
        from dakoku_server import admin
        sync_server.bind()
        admin.delete_help(admin.company("DEMO"), "1006", "HQ")      # the session's server: leave 1006 unhelped


def test_self_diagnosis_reaches_the_real_server(sync_server, tmp_path):
    kiosk = provisioned_kiosk(sync_server, tmp_path)
    try:
        lines = {line.name: line for line in kiosk.diagnose.run()}
        assert all(lines[n].ok for n in ("ledger", "server", "certificate", "ip_allow", "clock_offset"))
        assert abs(lines["clock_offset"].data["drift"]) < 5
    finally:
        kiosk.close()
