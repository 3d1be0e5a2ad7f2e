"""設定 › 認証情報 and 出勤状況 against the real reference server over TLS: a card registered at the kiosk is listed
(masked, with its date and recorder), deleted by the listed reference without the card, and stops punching at
once (「認証に失敗しました」 cause A, as any unregistered card); offline nothing changes; presence merges the
server's view with the ledger's."""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import pytest

from dakoku_core.domain.credentials import card_ref
from dakoku_core.domain.model import AuthMethod, PunchKind
from dakoku_core.errors import KioskError
from kiosk.services.credentials import CredentialsService
from kiosk.services.presence import Presence

from .harness import free_port
from .test_composition import provisioned_kiosk, wait_for

pytestmark = pytest.mark.timeout(120)


def new_card() -> str:
    return uuid.uuid4().hex[:16].upper()


def test_a_lost_card_is_listed_deleted_without_it_and_stops_punching(sync_server, tmp_path):
    kiosk = provisioned_kiosk(sync_server, tmp_path)
    try:
        wait_for(kiosk.sync.sync.is_online)
        suzuki = kiosk.master.employee_by_code_or_login("1003")
        card = new_card()
        kiosk.registration.register(suzuki, card, card)
        ref = card_ref(kiosk.master.card_key(), card)
        assert kiosk.punch_service.punch_with_card(PunchKind.CLOCK_IN, card).employee.code == "1003"

        listed = kiosk.credentials.list_for(suzuki)
        mine = next(c for c in listed.cards if c.ref == ref)
        assert mine.recorder_code == "R001" and mine.recorder_name == "本社 1F"
        assert mine.masked == "…" + ref[-4:] and card not in mine.masked
        assert abs(mine.registered_at - datetime.now(timezone.utc)) < timedelta(minutes=5)
        assert listed.fingers == ()

        assert kiosk.credentials.delete_card(suzuki, mine) is True
        assert kiosk.master.employee_by_credential(AuthMethod.CARD, ref) is None   # dropped at once
        with pytest.raises(KioskError) as refused:
            kiosk.punch_service.punch_with_card(PunchKind.CLOCK_OUT, card)
        assert (refused.value.key, refused.value.cause_letter) == ("auth_failed", "A")
        assert ref not in {c.ref for c in kiosk.credentials.list_for(suzuki).cards}
        assert kiosk.credentials.delete_card(suzuki, mine) is False   # already gone: nothing else changes
    finally:
        kiosk.close()


def test_offline_or_unreachable_says_so_and_changes_nothing(sync_server, tmp_path):
    kiosk = provisioned_kiosk(sync_server, tmp_path)
    try:
        wait_for(kiosk.sync.sync.is_online)
        yamada = kiosk.master.employee_by_code_or_login("1001")
        card = next(c for c in kiosk.credentials.list_for(yamada).cards)
        dead = sync_server.demo.client(url=f"https://127.0.0.1:{free_port()}/")
        unreachable = CredentialsService(kiosk.master, kiosk.master, lambda: dead, is_online=lambda: True,
                                         refresh=lambda: None)
        with pytest.raises(KioskError) as failed:
            unreachable.delete_card(yamada, card)
        assert failed.value.key == "connect_failed" and failed.value.code == "004", failed.value.key
        offline = CredentialsService(kiosk.master, kiosk.master, kiosk.sync.slot, is_online=lambda: False,
                                     refresh=lambda: None)
        with pytest.raises(KioskError) as refused:
            offline.list_for(yamada)
        assert refused.value.key == "online_only"
        assert kiosk.master.employee_by_credential(AuthMethod.CARD, card.ref).code == "1001"
        assert card.ref in {c.ref for c in kiosk.credentials.list_for(yamada).cards}
    finally:
        kiosk.close()


def test_presence_merges_the_servers_view_with_unsent_punches(sync_server, tmp_path):
    kiosk = provisioned_kiosk(sync_server, tmp_path)
    try:
        wait_for(kiosk.sync.sync.is_online)
        yamada = kiosk.master.employee_by_code_or_login("1001")
        card = new_card()
        kiosk.registration.register(yamada, card, card)
        # another recorder's punch the server has: 鈴木 came in a little earlier today (the company's day)
        now = kiosk.clock.read().at
        earlier = now - min(timedelta(minutes=5), (now - now.replace(hour=0, minute=0, second=0)) / 2)
        suzuki = kiosk.master.employee_by_code_or_login("1003")
        body = {"uuid": str(uuid.uuid4()), "employee_key": suzuki.key, "kind": "clock_in",
                "stamped_at": earlier.isoformat(), "time_source": "server", "offline": False, "auth_method": "card",
                "recorder_code": "R001"}
        sent = sync_server.demo.client().upload_punches([_punch(body)])
        kiosk.sync.sync.stop()                        # what this kiosk punches now stays unsent
        kiosk.punch_service.punch_with_card(PunchKind.CLOCK_IN, card)
        assert kiosk.status.snapshot(0).unsent == 1
        board = kiosk.presence.board()
        assert board.server_checked and board.server_error is None and board.day == now.date()
        rows = {r.employee.code: r for r in board.rows}
        assert (rows["1001"].state, rows["1001"].last.source) == (Presence.WORKING, "ledger")
        if sent[0].recorded == "accepted":
            assert rows["1003"].last.source == "server" and rows["1003"].last.at >= earlier - timedelta(seconds=1)
        assert {r.employee.department_code for r in board.rows} <= {"HQ"} | {
            d for e in board.rows for d in kiosk.master.help_departments(e.employee.key)}
    finally:
        kiosk.close()


def _punch(body: dict):
    from dakoku_core.domain.model import AuthMethod as Method, Punch, TimeSource
    return Punch(employee_key=body["employee_key"], kind=PunchKind(body["kind"]),
                 stamped_at=datetime.fromisoformat(body["stamped_at"]), time_source=TimeSource.SERVER,
                 offline=False, auth_method=Method.CARD, recorder_code="R001", uuid=body["uuid"])


def test_an_enrolled_finger_is_listed_and_deleted_here_and_on_the_server(sync_server, tmp_path):
    from dakoku_core.fingerprint.extractors import MindtctExtractor
    from dakoku_core.fingerprint.synth.dataset import TEST, impressions_of
    from dakoku_server import admin

    from .test_fingerprint_sync import kiosk_at

    sync_server.bind()
    company = admin.company("DEMO")
    if admin.Employee.get_or_none((admin.Employee.company == company) & (admin.Employee.code == "F951")) is None:
        admin.add_employee(company, "F951", "指紋", "HQ", "FULL", first_name="F951")    # no kana: in no list
    extractor = MindtctExtractor()
    impressions = [extractor.extract(image) for image in impressions_of(TEST.start + 95, 4)]
    with kiosk_at(sync_server.demo, tmp_path) as kiosk:
        person = kiosk.master.employee_by_code_or_login("F951")
        finger = kiosk.fingerprint.enrol_templates(person, impressions).finger
        listed = kiosk.credentials.list_for(person)
        assert [f.finger for f in listed.fingers] == [finger] and listed.cards == ()
        assert finger in kiosk.fingerprint.store.fingers_of(person.key)
        assert kiosk.credentials.delete_finger(person, finger) is True
        assert finger not in kiosk.fingerprint.store.fingers_of(person.key)      # gone here at once
        assert kiosk.credentials.list_for(person).fingers == ()                  # and on the server
