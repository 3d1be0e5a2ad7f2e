"""The seed's enrolment rows end to end: 設定 → 認証登録 on the real screens of a kiosk whose sensor is
libfprint's ``virtual_image``, registered with the real reference server over TLS (tests/sync's harness:
enrolment is online only), synthetic fingers sent through the driver's socket. Each row is asserted by catalogue
key (and cause letter) and by what the screen shows."""
from __future__ import annotations

import numpy as np
import pytest

from fingerprint_device.virtual_kiosk import libfprint_kiosk
from dakoku_core.domain.model import AuthMethod, PunchKind
from dakoku_core.errors import KioskError, catalogue
from dakoku_core.fingerprint.enroll import consolidate
from dakoku_core.fingerprint.extractors import MindtctExtractor
from dakoku_core.fingerprint.synth import TEST, impressions_of
from kivy_harness import screenshot, touch, wait_until
from registration_screens import action, choose_employee, open_registration
from sync.conftest import sync_server  # noqa: F401  (the reference server over TLS, one per module using it)
from sync.harness import Provisioning

pytestmark = [pytest.mark.ui, pytest.mark.timeout(240)]

FINGER, ELSEWHERE = TEST.start + 60, TEST.start + 61


@pytest.fixture(scope="module")
def fingers() -> dict[int, np.ndarray]:
    return {FINGER: impressions_of(FINGER, 9), ELSEWHERE: impressions_of(ELSEWHERE, 8)}


@pytest.fixture
def online_kiosk(window, tmp_path, fprint, clean_env, short_dir, sync_server):  # noqa: F811
    """``with online_kiosk(**FingerprintSettings options) as vk``: provisioned as DEMO / R001 (HQ), online;
    every finger it registered with the server is deleted afterwards (the server outlives the test)."""
    opened = []

    def start(**options):
        opened.append(True)
        return libfprint_kiosk(window, tmp_path, clean_env, short_dir, provisioning=sync_server.demo, **options)

    yield start
    if opened:
        client = sync_server.demo.client()
        for key in sync_server.employee_keys.values():
            for finger in range(10):
                try:
                    client.delete_fingerprint(key, finger)
                except KioskError as exc:       # another department's employee: not HQ's to delete (its
                    if exc.key != "auth_failed":    # own recorder cleans up, as the test that enrols one does)
                        raise
                    break


def assert_error(vk, key: str, letter: str | None = None, **context) -> None:
    wait_until(lambda: vk.app.presenter.is_open, timeout=60)
    error = vk.app.presenter.current
    assert (error.key, error.cause_letter) == (key, letter), error
    code, shown, cause = vk.dialog_text()
    assert code == "" and shown == catalogue()[key].message().ja.format(**context)
    if letter:
        assert cause == catalogue()[key].cause(letter).ja


def start_enrolment(vk, kana_row: str = "ヤ", name: str = "山田") -> None:
    open_registration(vk.app)
    choose_employee(vk.app, kana_row, name)
    touch(action(vk.app, "指紋を登録"))


def enrol_images(vk, images, window=None) -> None:
    """Answer each capture of the running enrolment with the next image (progress shown before each)."""
    screen = vk.app.settings_screen
    for step, image in enumerate(images, start=1):
        wait_until(lambda s=step: screen.notice == f"{s}/{len(images)} 回目: 指を置いてください", timeout=60)
        if window is not None and step == 2:
            screenshot(window, "libfprint_enrolment_progress")
        vk.place(image)


def test_enrolment_registers_with_the_server_and_the_finger_punches(online_kiosk, fingers, sync_server,  # noqa: F811
                                                                    window):
    yamada = sync_server.employee_keys["1001"]
    with online_kiosk() as vk:
        app, screen = vk.app, vk.app.settings_screen
        seen: list[str] = []
        screen.bind(notice=lambda _s, text: seen.append(text))
        start_enrolment(vk)
        enrol_images(vk, fingers[FINGER][0:4], window)
        wait_until(lambda: screen.notice == "山田 太郎 さんの指紋を登録しました", timeout=60)
        assert any(t.startswith("1/4 回目: 読み取りました(特徴点 ") for t in seen)
        assert app.kiosk.fingerprint.store.fingers_of(yamada) == {0}
        assert (yamada, 0) in {(f.employee_key, f.finger) for f in sync_server.demo.client().fingerprints().fingers}
        screenshot(window, "libfprint_enrolled")
        touch(screen.ids.close_button)
        wait_until(lambda: app.manager.current == "standby")
        touch(app.standby.punch_button(PunchKind.CLOCK_IN))
        vk.place(fingers[FINGER][8])
        wait_until(lambda: app.punch_screen.phase == "done", timeout=30)
        punch = app.kiosk.punches.recent_punches(1)[0]
        assert (punch.employee_key, punch.auth_method) == (yamada, AuthMethod.FINGERPRINT)


def test_the_same_finger_again_is_registered_to_that_employee(online_kiosk, fingers,
                                                              sync_server):  # noqa: F811
    with online_kiosk() as vk:
        start_enrolment(vk)
        enrol_images(vk, fingers[FINGER][0:4])
        wait_until(lambda: vk.app.settings_screen.notice == "山田 太郎 さんの指紋を登録しました", timeout=60)
        touch(action(vk.app, "指紋を登録"))
        enrol_images(vk, fingers[FINGER][4:8])
        assert_error(vk, "credential_registered_to_employee", name="山田 太郎", code="1001")
        assert vk.app.kiosk.fingerprint.store.fingers_of(sync_server.employee_keys["1001"]) == {0}


def test_a_finger_another_department_registered_is_a_duplicate_said_by_the_server(online_kiosk, fingers,
                                                                                 sync_server):  # noqa: F811
    """伊藤 (STORE) enrolled this finger at a STORE kiosk; this HQ kiosk never pulls STORE's fingers, so only the
    server's company-wide check can refuse it for 山田."""
    from dakoku_server import admin, recorders

    sync_server.bind()
    store_kiosk = Provisioning.from_text(recorders.add_recorder(
        admin.company("DEMO"), "RFE", "STORE", server_url=sync_server.process.url).text())
    extractor = MindtctExtractor()
    templates = consolidate([extractor.extract(im) for im in fingers[ELSEWHERE][0:4]]).templates
    ito = sync_server.employee_keys["1006"]
    store_kiosk.client().register_fingerprint(ito, 0, [t.to_bytes() for t in templates])
    try:
        with online_kiosk() as vk:
            assert ito not in vk.app.kiosk.fingerprint.store.gallery().employees()
            start_enrolment(vk)
            enrol_images(vk, fingers[ELSEWHERE][4:8])
            assert_error(vk, "credential_duplicate")
            assert vk.app.kiosk.fingerprint.store.fingers_of(sync_server.employee_keys["1001"]) == set()
    finally:
        store_kiosk.client().delete_fingerprint(ito, 0)          # STORE's employee: STORE's recorder deletes


def test_offline_enrolment_is_refused_before_any_capture(window, tmp_path, fprint, clean_env, short_dir):
    with libfprint_kiosk(window, tmp_path, clean_env, short_dir) as vk:      # the offline demo: no server
        open_registration(vk.app)
        assert_error(vk, "online_only")
        assert not vk.waiting_for_finger()


def test_no_finger_within_the_capture_timeout_is_enrolment_cancelled_a(online_kiosk):
    with online_kiosk(capture_timeout_seconds=1.0) as vk:
        start_enrolment(vk)
        wait_until(vk.waiting_for_finger, timeout=60)
        assert_error(vk, "enrollment_cancelled", "A")


def test_the_stop_button_mid_enrolment_is_enrolment_cancelled_a_and_nothing_is_registered(
        online_kiosk, fingers, sync_server, window):  # noqa: F811
    with online_kiosk() as vk:
        start_enrolment(vk)
        screen = vk.app.settings_screen
        wait_until(lambda: screen.notice == "1/4 回目: 指を置いてください", timeout=60)
        vk.place(fingers[FINGER][0])                            # one capture taken, then the manager stops
        wait_until(lambda: screen.notice == "2/4 回目: 指を置いてください", timeout=60)
        screenshot(window, "libfprint_enrolment_stop")
        touch(action(vk.app, "中止"))
        assert_error(vk, "enrollment_cancelled", "A")
        assert action(vk.app, "指紋を登録") is not None           # back to 山田's actions (waits for them)
        assert "中止" not in [b.text for b in screen.ids.actions.children]
        assert vk.app.kiosk.fingerprint.store.fingers_of(sync_server.employee_keys["1001"]) == set()


def test_a_device_error_mid_enrolment_is_enrolment_cancelled_b(online_kiosk, fingers, fprint):
    with online_kiosk() as vk:
        start_enrolment(vk)
        vk.place(fingers[FINGER][0], timeout=60)
        wait_until(vk.waiting_for_finger)
        vk.client.error(fprint.DeviceError.PROTO)
        vk.unanswered()
        assert_error(vk, "enrollment_cancelled", "B")


def test_unplugged_mid_enrolment_is_b_and_the_next_enrolment_finds_the_sensor_again(
        online_kiosk, fingers, sync_server, window):  # noqa: F811
    with online_kiosk() as vk:
        start_enrolment(vk)
        vk.place(fingers[FINGER][0], timeout=60)
        wait_until(vk.waiting_for_finger)
        vk.client.disappear()
        vk.unanswered()
        assert_error(vk, "enrollment_cancelled", "B")
        vk.close_error()
        touch(action(vk.app, "指紋を登録"))      # its first capture enumerates again and opens the device
        wait_until(vk.waiting_for_finger, timeout=60)
        vk.reconnect()
        enrol_images(vk, fingers[FINGER][0:4])
        wait_until(lambda: vk.app.settings_screen.notice == "山田 太郎 さんの指紋を登録しました", timeout=60)
        assert vk.app.kiosk.fingerprint.store.fingers_of(sync_server.employee_keys["1001"]) == {0}


def unusable(image: np.ndarray, size: int = 72) -> np.ndarray:
    """Only a small patch of finger on the sensor: libfprint's own detector finds a few minutiae (so it hands the
    image over), ours finds too few to enrol."""
    out = np.full_like(image, 255)
    top, left = (image.shape[0] - size) // 2, (image.shape[1] - size) // 2
    out[top:top + size, left:left + size] = image[top:top + size, left:left + size]
    return out


def test_unusable_captures_are_enrolment_failed(online_kiosk, fingers):
    with online_kiosk(captures=3) as vk:
        seen: list[str] = []
        vk.app.settings_screen.bind(notice=lambda _s, text: seen.append(text))
        start_enrolment(vk)
        for image in fingers[FINGER][0:6]:          # twice the 3 captures asked for, every one unusable
            vk.place(unusable(image), timeout=60)
        assert_error(vk, "enrollment_failed")
        assert any("特徴点が少なすぎます" in t for t in seen)       # the reason, after each capture
