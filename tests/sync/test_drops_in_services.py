"""ヘルプ登録, タイムカード and 認証登録 as the services run them, on a kiosk ledger filled by a real データ更新, when the
server drops right after answering (the fault proxy resets every new connection): the request is sent (no
"offline" guess before it) and the failure is the seed's 「サーバーに接続できませんでした」 in the situation's
variant. A kiosk with no connection at all says 「この機能はオンライン時のみ利用できます」 without a request."""
from __future__ import annotations

import pytest

from dakoku_core.demo import DEMO_CARDS
from dakoku_core.errors import KioskError
from kiosk.services.data_update import DataUpdateService
from kiosk.services.help_registration import HelpRegistrationService
from kiosk.services.recorder_api import ClientSlot
from kiosk.services.registration import CardRegistrationService
from kiosk.services.timecard import TimecardService

from .fault_proxy import FaultProxy
from .test_connection_drops import QUICK, fresh_connections

pytestmark = pytest.mark.timeout(90)
CARD = {c.employee_code: c.card_id for c in DEMO_CARDS if c.employee_code}


class Browser:
    def __init__(self):
        self.opened: list[str] = []

    def open(self, url: str) -> None:
        self.opened.append(url)


def error_of(call) -> KioskError:
    with pytest.raises(KioskError) as info:
        call()
    return info.value


@pytest.fixture
def dropped(sync_server, ledger):
    """(slot, client) of a kiosk whose データ更新 just succeeded through the proxy, which now resets everything."""
    with FaultProxy(sync_server.process.port, "pass") as proxy:
        client = sync_server.demo.client(proxy.url, retry=QUICK)
        slot = ClientSlot(client)
        DataUpdateService(ledger.store, slot).update()
        proxy.mode = "refuse"
        fresh_connections(client)
        yield slot, client


def test_help_registration(ledger, dropped):
    slot, client = dropped
    service = HelpRegistrationService(ledger.master, slot, is_online=lambda: False, refresh=lambda: None)
    before = client.attempts
    error = error_of(lambda: service.register_by_card(CARD["1006"]))          # 伊藤 (店舗) at HQ
    assert (error.key, error.message("ja")) == ("server_unreachable", "サーバーに接続できませんでした")
    assert client.attempts > before                                          # it asked the server


def test_timecard(ledger, dropped):
    slot, _client = dropped
    browser = Browser()
    service = TimecardService(ledger.master, slot, browser)
    error = error_of(lambda: service.open_for_card(CARD["1001"]))
    assert (error.key, error.message("ja")) == ("server_unreachable", "サーバーに接続できませんでした")
    assert browser.opened == []


def test_card_registration(ledger, dropped):
    slot, _client = dropped
    service = CardRegistrationService(ledger.master, slot, is_online=lambda: True, refresh=lambda: None)
    yamada = ledger.master.employee_by_code_or_login("1001")
    error = error_of(lambda: service.register(yamada, "0123456789ABCDEF", "0123456789ABCDEF"))
    assert (error.key, error.variant, error.message("ja")) == ("server_unreachable", "failed", "接続に失敗しました")


def test_no_connection_at_all_is_online_only(ledger, dropped):
    empty = ClientSlot()
    help_error = error_of(lambda: HelpRegistrationService(ledger.master, empty, is_online=lambda: False,
                                                          refresh=lambda: None).register_by_card(CARD["1006"]))
    card_error = error_of(lambda: TimecardService(ledger.master, empty, Browser()).open_for_card(CARD["1001"]))
    for error in (help_error, card_error):
        assert (error.key, error.message("ja")) == ("online_only", "この機能はオンライン時のみ利用できます")
