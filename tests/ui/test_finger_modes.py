"""Finger punching beyond the chosen-type wait, on real screens with the simulated sensor: a bare finger on
standby in a time-of-day mode, the 2-factor ID step after an ambiguous match, and the sensor's state in the status
line (unplugged, re-plugged, taking fingers again without a restart)."""
from __future__ import annotations

import pytest

from dakoku_core.domain.model import AuthMethod, PunchKind
from kiosk.settings import FingerprintSettings
from kivy_harness import advance, running_app, screenshot, touch, wait_until

pytestmark = [pytest.mark.ui, pytest.mark.timeout(120)]
ALL_DAY_CLOCK_IN = [{"start": "00:00", "end": "23:59", "kind": "clock_in"}]
SHARED_FINGER = 1


def enrol_directly(app, code: str, finger: int, impressions: range) -> None:
    """Store a synthetic finger for an employee without the duplicate check: the way two employees end up with
    the same finger (a mix-up at enrolment on two kiosks), which identification must then refuse to guess."""
    service = app.kiosk.fingerprint
    employee = app.kiosk.master.employee_by_code_or_login(code)
    templates = [service.extractor.extract(service.sensor.impression(finger, j)) for j in impressions]
    service.store.add(employee.key, 0, employee.department_code, templates)


def keypad(app, text: str) -> None:
    keys = {b.key: b for b in app.password_screen.ids.keypad.children}
    for key in text:
        touch(keys[key])
    touch(app.password_screen.ids.submit_button)


def test_a_bare_finger_on_standby_punches_the_time_of_day_type(window, tmp_path):
    settings = FingerprintSettings(backend="simulated", demo_fingers=1)
    with running_app(window, tmp_path, fingerprint=settings, auto_modes=ALL_DAY_CLOCK_IN) as app:
        wait_until(lambda: not app.kiosk.fingerprint_warm_up.running, timeout=30)
        advance(10)
        assert app.manager.current == "standby"
        assert app.standby.hint_text.startswith("いまは「出勤」: ICカードをかざすか指を置くだけで")
        wait_until(lambda: app.finger_flow._cancel is not None)     # standby itself waits for a finger
        app.kiosk.fingerprint.sensor.place_finger(1)
        wait_until(lambda: app.punch_screen.phase == "done", timeout=20)
        punch = app.kiosk.punches.recent_punches(1)[0]
        assert (punch.kind, punch.auth_method, punch.employee_key) == (PunchKind.CLOCK_IN, AuthMethod.FINGERPRINT,
                                                                      "E1001")
        wait_until(lambda: app.manager.current == "standby")
        wait_until(lambda: app.finger_flow._cancel is not None)     # and waits again


def test_no_time_of_day_mode_means_standby_takes_no_finger(window, tmp_path):
    settings = FingerprintSettings(backend="simulated", demo_fingers=0)
    with running_app(window, tmp_path, fingerprint=settings) as app:
        advance(10)
        assert app.finger_flow._cancel is None
        app.kiosk.fingerprint.sensor.place_finger(1)
        advance(10)
        assert app.kiosk.punches.count() == 0 and app.manager.current == "standby"


def ambiguous_app(window, tmp_path, two_factor: bool, **display_options):
    settings = FingerprintSettings(backend="simulated", demo_fingers=0, two_factor=two_factor)
    return running_app(window, tmp_path, fingerprint=settings, **display_options)


def place_the_shared_finger(app) -> None:
    """山田 and 佐藤 enrolled from one synthetic finger; 出勤, then that finger: an ambiguous match."""
    enrol_directly(app, "1001", SHARED_FINGER, range(100, 104))
    enrol_directly(app, "1002", SHARED_FINGER, range(200, 204))
    touch(app.standby.punch_button(PunchKind.CLOCK_IN))
    wait_until(lambda: app.finger_flow._cancel is not None)
    app.kiosk.fingerprint.sensor.place_finger(SHARED_FINGER)
    wait_until(lambda: app.presenter.is_open, timeout=20)


def enter_id_after_the_message(app, code: str) -> None:
    app.presenter.dismiss()
    advance(3)
    keypad(app, code)


def test_two_factor_ambiguity_asks_for_the_id_then_verifies_that_employee(window, tmp_path):
    with ambiguous_app(window, tmp_path, two_factor=True) as app:
        sensor = app.kiosk.fingerprint.sensor
        place_the_shared_finger(app)
        assert app.presenter.current.key == "fingerprint_ambiguous_enter_id"
        assert app.manager.current == "password" and app.password_screen.purpose == "finger_id"
        assert app.password_screen.prompt == "ログインIDまたは従業員コードを入力してください"
        assert app.kiosk.punches.count() == 0
        screenshot(window, "finger_two_factor_message")
        enter_id_after_the_message(app, "1002")
        wait_until(lambda: app.manager.current == "punch")
        assert app.punch_screen.headline == "佐藤 花子 さん、もう一度指を置いてください"
        screenshot(window, "finger_two_factor_wait")
        wait_until(lambda: app.finger_flow._cancel is not None)
        sensor.place_finger(SHARED_FINGER)
        wait_until(lambda: app.punch_screen.phase == "done", timeout=20)
        punch = app.kiosk.punches.recent_punches(1)[0]
        assert (punch.employee_key, punch.auth_method, punch.kind) == ("E1002", AuthMethod.FINGERPRINT,
                                                                      PunchKind.CLOCK_IN)
        assert app.finger_flow.verify_for is None        # the 1:1 step does not outlive its punch


def test_two_factor_verify_refuses_a_finger_that_is_not_that_employees(window, tmp_path):
    with ambiguous_app(window, tmp_path, two_factor=True) as app:
        enrol_directly(app, "1003", 3, range(100, 104))
        place_the_shared_finger(app)
        enter_id_after_the_message(app, "1003")           # 鈴木's code, 山田/佐藤's finger
        wait_until(lambda: app.manager.current == "punch")
        wait_until(lambda: app.finger_flow._cancel is not None)
        app.kiosk.fingerprint.sensor.place_finger(SHARED_FINGER)
        wait_until(lambda: app.presenter.is_open, timeout=20)
        assert (app.presenter.current.key, app.presenter.current.cause_letter) == ("auth_failed", "A")
        assert app.kiosk.punches.count() == 0


def test_without_two_factor_ambiguity_tells_to_contact_the_administrator(window, tmp_path):
    with ambiguous_app(window, tmp_path, two_factor=False) as app:
        place_the_shared_finger(app)
        assert app.presenter.current.key == "fingerprint_ambiguous_contact_admin"
        assert app.manager.current == "standby" and app.kiosk.punches.count() == 0


def test_sensor_state_is_in_the_status_line_and_a_replugged_sensor_works_again(window, tmp_path, monkeypatch):
    from kiosk.ui import finger_flow

    monkeypatch.setattr(finger_flow, "SENSOR_PROBE_SECONDS", 0.2)
    settings = FingerprintSettings(backend="simulated", demo_fingers=1)
    with running_app(window, tmp_path, fingerprint=settings) as app:
        wait_until(lambda: not app.kiosk.fingerprint_warm_up.running, timeout=30)
        wait_until(lambda: "指紋センサー: 接続中" in app.standby.status_text)
        sensor = app.kiosk.fingerprint.sensor
        touch(app.standby.punch_button(PunchKind.CLOCK_IN))
        wait_until(lambda: app.finger_flow._cancel is not None)
        sensor.unplug()
        wait_until(lambda: app.presenter.is_open)
        assert app.presenter.current.key == "device_init_failed"
        wait_until(lambda: "指紋センサー: 未接続" in app.standby.status_text)
        screenshot(window, "finger_sensor_unplugged")
        advance(10)
        assert app.finger_flow.broken is not None              # still missing: probes keep failing quietly
        assert app.presenter.is_open and app.presenter.current.key == "device_init_failed"
        sensor.plug()
        wait_until(lambda: app.finger_flow.broken is None)
        wait_until(lambda: "指紋センサー: 接続中" in app.standby.status_text)
        assert not app.presenter.is_open                        # the error no longer applies
        app.flow.go_standby()
        screenshot(window, "finger_sensor_status")
        touch(app.standby.punch_button(PunchKind.CLOCK_IN))
        wait_until(lambda: app.finger_flow._cancel is not None)
        sensor.place_finger(1)
        wait_until(lambda: app.punch_screen.phase == "done", timeout=20)
        assert app.kiosk.punches.recent_punches(1)[0].auth_method is AuthMethod.FINGERPRINT


def test_a_retry_prompt_is_a_hint_on_the_wait_screen_not_an_error(window, tmp_path):
    settings = FingerprintSettings(backend="simulated", demo_fingers=1)
    with running_app(window, tmp_path, fingerprint=settings) as app:
        wait_until(lambda: not app.kiosk.fingerprint_warm_up.running, timeout=30)
        touch(app.standby.punch_button(PunchKind.CLOCK_IN))
        wait_until(lambda: app.finger_flow._cancel is not None)
        sensor = app.kiosk.fingerprint.sensor
        sensor.retry()                                   # the next placement is off centre
        sensor.place_finger(1)
        wait_until(lambda: app.punch_screen.note == "指をセンサーの中央に置き直してください")
        app.flow.count_down_wait()                       # a second passes: the hint stays to be read
        assert app.punch_screen.note == "指をセンサーの中央に置き直してください"
        assert not app.presenter.is_open and app.punch_screen.phase == "wait"
        sensor.place_finger(1)
        wait_until(lambda: app.punch_screen.phase == "done", timeout=20)
        assert app.kiosk.punches.recent_punches(1)[0].employee_key == "E1001"


def test_self_diagnosis_reports_the_sensor_and_the_enrolled_fingers_against_the_limit(window, tmp_path):
    settings = FingerprintSettings(backend="simulated", demo_fingers=1, pattern_limit=1)
    with running_app(window, tmp_path, fingerprint=settings) as app:
        wait_until(lambda: not app.kiosk.fingerprint_warm_up.running, timeout=30)
        lines = {line.name: line for line in app.kiosk.diagnose.run()}
        assert lines["sensor"].ok
        assert lines["sensor"].detail == "simulated: synthetic fingers、登録済みの指 1 / 上限 1"
        enrol_directly(app, "1002", 2, range(100, 104))          # one finger more than this recorder may hold
        lines = {line.name: line for line in app.kiosk.diagnose.run()}
        assert (lines["sensor"].outcome, lines["sensor"].remedy_key) == ("fail", "too_many_patterns")
        enrol_directly(app, "1006", 6, range(100, 104))          # another department's finger does not count
        assert "登録済みの指 2 / 上限 1" in {line.name: line for line in app.kiosk.diagnose.run()}["sensor"].detail
        screen = app.settings_screen
        touch(app.standby.ids.settings_button)
        keypad(app, "0000")
        wait_until(lambda: app.manager.current == "settings")
        touch(screen._section_buttons["diagnosis"])
        assert screen.notice == ("打刻データベース、時刻、サーバーへの接続、証明書、アクセス元IPの許可、指紋センサーと"
                                 "指紋の照合を確かめます")
        touch(screen.ids.actions.children[-1])                    # 診断を実行
        wait_until(lambda: screen.notice == "" and any(r.title == "指紋センサー" for r in screen.ids.rows.children))
        row = next(r for r in screen.ids.rows.children if r.title == "指紋センサー")
        assert row.badge == "異常" and "所属を分割" in row.value                     # the catalogue's remedy
        screenshot(window, "settings_diagnosis_sensor")


@pytest.mark.timeout(300)
def test_self_diagnosis_names_two_enrolled_fingers_the_kiosk_cannot_tell_apart(window, tmp_path):
    """The gallery's self-check, run by the kiosk in the background, finds 山田's finger enrolled again for 田中;
    自己診断 (by touch) shows the pair by name and what to do about it."""
    from registration_screens import enrol_look_alike_gallery, open_settings
    settings = FingerprintSettings(backend="simulated", demo_fingers=0)
    with running_app(window, tmp_path, fingerprint=settings) as app:
        wait_until(lambda: not app.kiosk.fingerprint_warm_up.running, timeout=30)
        enrol_look_alike_gallery(app)
        open_settings(app)
        screen = app.settings_screen
        touch(screen._section_buttons["diagnosis"])
        touch(screen.ids.actions.children[-1])                    # 診断を実行
        wait_until(lambda: screen.notice == "" and any(r.title == "指紋の照合" for r in screen.ids.rows.children))
        row = next(r for r in screen.ids.rows.children if r.title == "指紋の照合")
        assert row.badge == "異常"
        assert "山田 太郎（1001）指紋 1 と 田中 健（1005）指紋 1" in row.value
        assert "一方の指を削除し、別の指を登録してください" in row.value             # what a manager can do
        screen.ids.rows_scroll.scroll_y = 0                          # as a manager's drag would show it
        screenshot(window, "settings_diagnosis_look_alike")


def test_self_diagnosis_says_when_the_sensor_failed_at_start(window, tmp_path):
    settings = FingerprintSettings(backend="libfprint", driver="no-such-driver", demo_fingers=0)
    with running_app(window, tmp_path, fingerprint=settings) as app:
        line = {line.name: line for line in app.kiosk.diagnose.run()}["sensor"]
        assert (line.outcome, line.remedy_key) == ("fail", "device_init_failed")


def test_in_keep_mode_a_failed_2_factor_step_does_not_carry_over_to_the_next_person(window, tmp_path):
    with ambiguous_app(window, tmp_path, two_factor=True, punch_mode="keep") as app:
        enrol_directly(app, "1003", 3, range(100, 104))
        sensor = app.kiosk.fingerprint.sensor
        place_the_shared_finger(app)
        enter_id_after_the_message(app, "1002")
        wait_until(lambda: app.finger_flow.verify_for is not None)
        wait_until(lambda: app.finger_flow._cancel is not None)
        sensor.place_finger(3)                                    # not 佐藤's finger: refused...
        wait_until(lambda: app.presenter.is_open, timeout=20)
        assert app.presenter.current.key == "auth_failed"
        assert app.finger_flow.verify_for is None                 # ...and the 1:1 step is over
        app.presenter.dismiss()
        wait_until(lambda: app.manager.current == "punch" and app.punch_screen.phase == "wait")
        assert app.punch_screen.headline == "ICカードをかざすか、指を置いてください"
        wait_until(lambda: app.finger_flow._cancel is not None)
        sensor.place_finger(3)                                    # the next person: 鈴木, identified 1:N
        wait_until(lambda: app.punch_screen.phase == "done", timeout=20)
        assert app.kiosk.punches.recent_punches(1)[0].employee_key == "E1003"


def test_in_keep_mode_an_unused_2_factor_step_expires(window, tmp_path):
    with ambiguous_app(window, tmp_path, two_factor=True, punch_mode="keep", wait_seconds=3) as app:
        place_the_shared_finger(app)
        enter_id_after_the_message(app, "1002")
        wait_until(lambda: app.finger_flow.verify_for is not None)
        assert app.punch_screen.headline.startswith("佐藤 花子 さん")
        wait_until(lambda: app.finger_flow.verify_for is None, timeout=8)   # nobody came: the step lapses
        assert app.manager.current == "punch" and app.punch_screen.headline == "ICカードをかざすか、指を置いてください"
