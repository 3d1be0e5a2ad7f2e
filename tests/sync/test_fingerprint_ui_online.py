"""指紋を登録 / 指紋を削除 on the real screens, registered with the real reference server over TLS (online only)."""
from __future__ import annotations

import pytest

from kiosk.adapters.connection_file import ConnectionFile
from dakoku_core.domain.model import AuthMethod, PunchKind
from kiosk.ports.recorder_api import ConnectionSettings
from kiosk.settings import FingerprintSettings
from kivy_harness import advance, running_app, screenshot, touch, wait_until
from registration_screens import action, actions, choose_employee, enrol_on_screen, open_registration

pytestmark = [pytest.mark.ui, pytest.mark.timeout(240)]


def server_fingers(sync_server) -> set[tuple[str, int]]:
    return {(f.employee_key, f.finger) for f in sync_server.demo.client().fingerprints().fingers}


def test_enrol_with_the_server_punch_at_once_then_delete_after_confirming(sync_server, window, tmp_path):
    ConnectionFile(tmp_path).save(ConnectionSettings(sync_server.demo.connection_text,
                                                     sync_server.demo.certificate_text))
    settings = FingerprintSettings(backend="simulated", demo_fingers=0)
    yamada = sync_server.employee_keys["1001"]
    try:
        with running_app(window, tmp_path, fingerprint=settings) as app:
            wait_until(app.kiosk.sync.sync.is_online, timeout=30)
            screen = app.settings_screen
            open_registration(app)
            choose_employee(app, "ヤ", "山田")
            assert "指紋を削除" not in actions(app)                     # nothing enrolled yet
            enrol_on_screen(app, 1)
            wait_until(lambda: screen.notice == "山田 太郎 さんの指紋を登録しました", timeout=60)
            assert actions(app) == ["ICカードを登録", "ICカードを削除", "指紋を登録", "指紋を削除", "一覧に戻る"]
            assert app.kiosk.fingerprint.store.fingers_of(yamada) == {0}
            assert (yamada, 0) in server_fingers(sync_server)          # the other kiosks' source
            screenshot(window, "finger_enrolled")
            enrol_on_screen(app, 1)                                    # the same finger again: known here already
            wait_until(lambda: app.presenter.is_open, timeout=60)
            assert app.presenter.current.key == "credential_registered_to_employee"
            app.presenter.dismiss()
            wait_until(lambda: not app.presenter.is_open)

            touch(screen.ids.close_button)                             # it punches at once, before any データ更新
            touch(app.standby.punch_button(PunchKind.CLOCK_IN))
            wait_until(lambda: app.finger_flow._cancel is not None)
            app.kiosk.fingerprint.sensor.place_finger(1)
            wait_until(lambda: app.punch_screen.phase == "done", timeout=30)
            punch = app.kiosk.punches.recent_punches(1)[0]
            assert (punch.employee_key, punch.auth_method) == (yamada, AuthMethod.FINGERPRINT)
            wait_until(lambda: app.manager.current == "standby", timeout=30)

            service = app.kiosk.fingerprint                            # a second finger, on this kiosk only
            service.store.add(yamada, 1, "HQ", [service.extractor.extract(service.sensor.impression(2, j))
                                                for j in range(100, 103)])
            open_registration(app)
            choose_employee(app, "ヤ", "山田")
            touch(action(app, "指紋を削除"))                            # two fingers: which one?
            wait_until(lambda: screen.notice == "削除する指紋を選んでください")
            assert sorted(b.text for b in screen.ids.rows.children) == ["指紋 1", "指紋 2"]
            screenshot(window, "finger_delete_choose")
            touch(next(b for b in screen.ids.rows.children if b.text == "指紋 2"))
            touch(action(app, "削除する"))
            wait_until(lambda: screen.notice == "山田 太郎 さんの指紋 2を削除しました", timeout=30)
            assert app.kiosk.fingerprint.store.fingers_of(yamada) == {0}
            touch(action(app, "指紋を削除"))                            # one finger: straight to the question
            wait_until(lambda: screen.notice == "山田 太郎 さんの指紋 1を削除しますか?")
            assert actions(app) == ["削除する", "やめる"]
            screenshot(window, "finger_delete_confirm")
            touch(action(app, "やめる"))                                # a slip changes nothing
            touch(action(app, "指紋を削除"))
            touch(action(app, "削除する"))
            wait_until(lambda: screen.notice == "山田 太郎 さんの指紋 1を削除しました", timeout=30)
            assert "指紋を削除" not in actions(app)
            assert app.kiosk.fingerprint.store.fingers_of(yamada) == set()
            assert (yamada, 0) not in server_fingers(sync_server)
            # A finger listed from stale data and gone meanwhile: said so, not "deleted".
            app.manager_flow.registration.fingers.confirm_delete(app.manager_flow.registration.employee, 5)
            wait_until(lambda: screen.notice == "山田 太郎 さんの指紋 6を削除しますか?")
            advance(3)                                                  # laid out before the touch
            touch(action(app, "削除する"))
            wait_until(lambda: screen.notice == "山田 太郎 さんの指紋 6はすでに削除されていました", timeout=30)
            audit = [(a, o, d) for _at, a, o, d in app.kiosk.manager.recent(20)]
            assert ("registration.fingerprint_delete", "done", "1001 #0") in audit
            assert ("registration.fingerprint", "done", "1001 #0") in audit
    finally:
        sync_server.demo.client().delete_fingerprint(yamada, 0)
