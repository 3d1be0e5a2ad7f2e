"""The real PC/SC stack: pcscd going away while 設定 › 認証登録 is open shows the 認証登録 message of
「ICカードリーダーが切断されました」 (no "authenticate again": nobody is punching); on standby, the punch one."""
from __future__ import annotations

import pytest

from kiosk.ports import ReaderState
from kivy_harness import running_app, wait_until
from registration_screens import open_registration

pytestmark = [pytest.mark.ui, pytest.mark.timeout(120)]
REGISTRATION = "ICカードリーダーが切断されました。接続を確認してください"
PUNCH = "ICカードリーダーが切断されました。接続を確認後、再度認証してください"


@pytest.fixture
def pcsc_app(pcsc, window, tmp_path):
    from kiosk.adapters.pcsc_reader import PcscCardReader

    reader = PcscCardReader(pcsc.pasori_name.split(" 00 ")[0], retry_interval=0.2)
    with running_app(window, tmp_path, reader=reader) as app:
        wait_until(lambda: app.reader_state is ReaderState.READY)
        yield app


def lose_reader(pcsc, app) -> None:
    pcsc.daemon.stop()
    wait_until(lambda: app.reader_state is ReaderState.DISCONNECTED and app.presenter.is_open
               and app.presenter.current.key == "reader_disconnected", timeout=20)


def test_reader_lost_in_registration_says_check_the_connection(pcsc, pcsc_app):
    app = pcsc_app
    open_registration(app)
    wait_until(lambda: app.presenter.is_open)            # this kiosk has no server: 認証登録 is refused...
    assert app.presenter.current.key == "online_only"
    app.presenter.dismiss()
    wait_until(lambda: not app.presenter.is_open)
    assert app.manager.current == "settings" and app.settings_screen.section == "registration"
    lose_reader(pcsc, app)                               # ...and the reader is lost on its screen
    assert app.presenter.dialog.message == REGISTRATION
    pcsc.daemon.start(pcsc.default)
    wait_until(lambda: app.reader_state is ReaderState.READY, timeout=15)


def test_reader_lost_on_standby_asks_to_authenticate_again(pcsc, pcsc_app):
    app = pcsc_app
    lose_reader(pcsc, app)
    assert app.presenter.dialog.message == PUNCH
    pcsc.daemon.start(pcsc.default)
    wait_until(lambda: app.reader_state is ReaderState.READY, timeout=15)
