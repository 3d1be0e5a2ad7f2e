"""設定 → 接続先 / データ更新 on the real screens, against the real reference server over TLS."""
from __future__ import annotations

import pytest

from kivy_harness import advance, running_app, screenshot, touch, wait_until

pytestmark = [pytest.mark.ui, pytest.mark.timeout(180)]


def open_settings(app) -> None:
    touch(app.standby.ids.settings_button)
    keys = {b.key: b for b in app.password_screen.ids.keypad.children}
    for digit in "0000":
        touch(keys[digit])
    touch(app.password_screen.ids.submit_button)
    wait_until(lambda: app.manager.current == "settings")


def fill(form, connection: str, certificate: str) -> None:
    if form.parent.height > form.parent.parent.height:
        form.parent.parent.scroll_to(form.ids.manual_tab, animate=False)
    touch(form.ids.manual_tab)                       # 接続文字列と証明書 (the form opens on the pairing code)
    form.field("connection").text = connection
    form.field("certificate").text = certificate


def test_connection_change_then_data_update(sync_server, window, tmp_path):
    with running_app(window, tmp_path) as app:
        assert not app.kiosk.sync.configured
        open_settings(app)
        screen, flow = app.settings_screen, app.manager_flow
        assert screen.section == "connection"            # an unprovisioned kiosk opens here
        wait_until(lambda: flow._form.parent is not None)
        fill(flow._form, "v=1;url=not a url", sync_server.demo.certificate_text)
        touch(screen.ids.actions.children[0])            # 保存する
        wait_until(lambda: app.presenter.is_open)
        assert app.presenter.current.code == "000"
        app.presenter.dismiss()
        wait_until(lambda: not app.presenter.is_open)
        fill(flow._form, sync_server.demo.connection_text, sync_server.demo.certificate_text)
        screenshot(window, "settings_connection")
        touch(screen.ids.actions.children[0])
        wait_until(lambda: "保存しました" in screen.notice, timeout=30)
        assert app.kiosk.sync.configured and app.kiosk.master.recorder().code == "R001"
        touch(screen._section_buttons["data_update"])
        touch(screen.ids.actions.children[0])            # データ更新
        wait_until(lambda: screen.notice.startswith(("変更はありません", "更新しました")), timeout=30)
        screenshot(window, "settings_data_update")
        actions = [a for _, a, _, _ in app.kiosk.manager.recent(10)]
        assert "settings.connection_change" in actions and "settings.data_update" in actions


def test_card_registration_on_screen_reads_twice_then_the_card_punches(sync_server, window, tmp_path):
    from kiosk.adapters.connection_file import ConnectionFile
    from dakoku_core.domain.model import PunchKind
    from kiosk.ports.recorder_api import ConnectionSettings

    ConnectionFile(tmp_path).save(ConnectionSettings(sync_server.demo.connection_text,
                                                     sync_server.demo.certificate_text))
    with running_app(window, tmp_path) as app:
        wait_until(app.kiosk.sync.sync.is_online, timeout=20)
        open_settings(app)
        screen = app.settings_screen
        touch(screen._section_buttons["registration"])
        wait_until(lambda: len(screen.ids.actions.children) == 10)          # ア カ サ ... ワ
        touch({b.text: b for b in screen.ids.actions.children}["サ"])
        wait_until(lambda: len(screen.ids.rows.children) == 2)
        touch([b for b in screen.ids.rows.children if "鈴木" in b.text][0])
        register = lambda: touch([b for b in screen.ids.actions.children if b.text == "ICカードを登録"][0])  # noqa: E731
        register()
        app.kiosk.reader.tap("08A1B2C3")                                   # a phone's random ID...
        wait_until(lambda: screen.notice.startswith("2回目"))
        app.kiosk.reader.tap("08F0E1D2")                                   # ...differs the second time
        wait_until(lambda: app.presenter.is_open)
        assert app.presenter.current.key == "card_id_unstable"
        app.presenter.dismiss()
        wait_until(lambda: not app.presenter.is_open)
        register()
        for _ in range(2):
            app.kiosk.reader.tap("0A0B0C0D0E0F1012")
            advance(5)
        wait_until(lambda: screen.notice.startswith("鈴木 一郎 さんのICカードを登録しました"), timeout=30)
        screenshot(window, "registration_done")
        touch(screen.ids.close_button)
        touch(app.standby.punch_button(PunchKind.CLOCK_IN))
        app.kiosk.reader.tap("0A0B0C0D0E0F1012")
        wait_until(lambda: app.punch_screen.phase == "done")
        assert app.punch_screen.headline == "鈴木 一郎 さん"
