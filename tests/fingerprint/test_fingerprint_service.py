"""Punch by finger and enrolment through the real ledger, the simulated sensor and the real extractor/matcher."""
from __future__ import annotations

import threading

import pytest

from kiosk.adapters.ledger.fingerprint_store import SqliteFingerprintStore
from dakoku_core.domain.model import AuthMethod, PunchKind
from dakoku_core.errors import KioskError
from dakoku_core.fingerprint import Matcher, StaticKeyProvider, TemplateCipher
from dakoku_core.fingerprint.code_codec import encode_code

from .fake_server import employee, error_of

pytestmark = pytest.mark.timeout(120)


def place_and_punch(fp, finger: int, kind: PunchKind = PunchKind.CLOCK_IN):
    fp.sensor.place_when_asked(finger)     # a finger placed before the capture began would not count
    return fp.punch_with_finger(kind, timeout=5.0)


def test_enrol_at_the_sensor_then_punch_by_finger(fp, demo_kiosk):
    progress = []
    fp.sensor.place_when_asked(1, 1, 1, 1)
    result = fp.enrol(employee(fp, "1001"), on_progress=progress.append)
    assert (result.employee.code, result.finger) == ("1001", 0) and 2 <= result.sub_templates <= 3
    assert [(p.step, p.phase) for p in progress] == [(s, ph) for s in (1, 2, 3, 4) for ph in ("place", "captured")]
    assert all(p.feedback.usable and p.feedback.minutiae >= 12 for p in progress if p.phase == "captured")
    punched = place_and_punch(fp, 1)
    assert punched.employee.code == "1001" and punched.punch.auth_method is AuthMethod.FINGERPRINT
    assert demo_kiosk[1].get(punched.punch.uuid).auth_method is AuthMethod.FINGERPRINT
    assert fp.next_finger(employee(fp, "1001")) == 1


def test_unknown_finger_is_auth_failed_a(fp, templates):
    fp.enrol_templates(employee(fp, "1001"), templates(1))
    err = error_of(place_and_punch, fp, 2)
    assert (err.key, err.cause_letter) == ("auth_failed", "A")
    assert fp.store.gallery().pattern_count() == 1


def test_same_finger_of_two_employees_is_ambiguous(fp, templates):
    for code in ("1001", "1003"):   # written past the duplicate check, as a server sync could
        fp.store.add(employee(fp, code).key, 0, "HQ", templates(1))
    assert error_of(place_and_punch, fp, 1).key == "fingerprint_ambiguous_contact_admin"
    fp._two_factor = True
    assert error_of(place_and_punch, fp, 1).key == "fingerprint_ambiguous_enter_id"


def test_only_the_recorders_department_and_help_registrations_are_searched(fp, templates):
    fp.enrol_templates(employee(fp, "1006"), templates(3))      # 伊藤, 店舗: not at this HQ recorder
    err = error_of(place_and_punch, fp, 3)
    assert (err.key, err.cause_letter) == ("auth_failed", "A")
    fp.store.delete(employee(fp, "1006").key)
    fp.enrol_templates(employee(fp, "1005"), templates(3))      # 田中, 店舗 but help-registered to HQ
    assert place_and_punch(fp, 3).employee.code == "1005"


def test_pattern_limit_of_the_department(fp, templates):
    fp.enrol_templates(employee(fp, "1001"), templates(1))
    fp.enrol_templates(employee(fp, "1003"), templates(2))
    fp._pattern_limit = 1
    assert error_of(place_and_punch, fp, 1).key == "too_many_patterns"


def test_enrolment_refuses_duplicates(fp, templates):
    fp.enrol_templates(employee(fp, "1001"), templates(1))
    assert error_of(fp.enrol_templates, employee(fp, "1003"), templates(1, 104)).key == "credential_duplicate"
    err = error_of(fp.enrol_templates, employee(fp, "1001"), templates(1, 104))
    assert err.key == "credential_registered_to_employee"
    assert err.context == {"name": "山田 太郎", "code": "1001"}
    assert fp.store.count() >= 2 and fp.store.fingers_of(employee(fp, "1003").key) == set()


def test_enrolment_cancelled_and_sensor_errors(fp):
    cancel = threading.Event()
    cancel.set()
    err = error_of(fp.enrol, employee(fp, "1001"), cancel=cancel)
    assert (err.key, err.cause_letter) == ("enrollment_cancelled", "A")
    fp.sensor.fail()
    err = error_of(fp.punch_with_finger, PunchKind.CLOCK_IN, timeout=5.0)
    assert err.key == "device_init_failed"
    err = error_of(fp.punch_with_finger, PunchKind.CLOCK_IN, timeout=0.05)
    assert (err.key, err.cause_letter) == ("auth_failed", "A")
    assert fp.store.count() == 0


def test_ledger_holds_no_plaintext_and_rows_are_bound(fp, templates, ledger_db, keys):
    fp.enrol_templates(employee(fp, "1001"), templates(1))
    ledger_db.db.execute_sql("PRAGMA wal_checkpoint(FULL)")
    files = [ledger_db.path, ledger_db.path.with_name(ledger_db.path.name + "-wal")]
    stored = b"".join(p.read_bytes() for p in files if p.exists())
    for template in templates(1):
        plain = template.to_bytes()
        assert plain[:16] not in stored and plain[-24:] not in stored
    for entry in fp.store.gallery().entries:                     # nor their cylinder codes (schema 5)
        code = encode_code(entry.code)
        assert code[:16] not in stored and code[-32:] not in stored
    assert b"DKFE" in stored
    # a fresh store (after a restart) decrypts the same gallery; another key opens nothing
    again = SqliteFingerprintStore(ledger_db, TemplateCipher(keys)).gallery()
    assert len(again) == len(fp.store.gallery()) >= 2
    assert len(SqliteFingerprintStore(ledger_db, TemplateCipher(StaticKeyProvider.generate())).gallery()) == 0
    # a row moved to another employee does not open
    ledger_db.db.execute_sql("UPDATE fingerprint_template SET employee_key = 'E1003'")
    assert len(SqliteFingerprintStore(ledger_db, TemplateCipher(keys)).gallery()) == 0


def test_a_restart_decrypts_the_stored_codes_instead_of_encoding(fp, templates, ledger_db, keys, monkeypatch):
    fp.enrol_templates(employee(fp, "1001"), templates(1))
    before = [encode_code(e.code) for e in fp.store.gallery().entries]

    def no_encoding(_template):
        raise AssertionError("a stored code must not be encoded again")
    monkeypatch.setattr(Matcher, "encode", staticmethod(no_encoding))
    again = SqliteFingerprintStore(ledger_db, TemplateCipher(keys)).gallery()
    assert [encode_code(e.code) for e in again.entries] == before
    # a code blob does not open as another finger's, nor is a template taken for a code
    ledger_db.db.execute_sql("UPDATE fingerprint_template SET sealed_code = sealed")
    assert len(SqliteFingerprintStore(ledger_db, TemplateCipher(keys)).gallery()) == 0
    # rows written before schema 5 have no code: encoded at load, as before
    monkeypatch.undo()
    ledger_db.db.execute_sql("UPDATE fingerprint_template SET sealed_code = NULL")
    old_rows = SqliteFingerprintStore(ledger_db, TemplateCipher(keys)).gallery()
    assert [encode_code(e.code) for e in old_rows.entries] == before


def test_settings_and_the_composition_root(tmp_path):
    import stat

    from kiosk.app_factory import build_kiosk
    from kiosk.settings import FingerprintSettings, ReaderSettings, Settings, load_settings

    assert load_settings(None).fingerprint.backend == "none"
    for bad in ({"backend": "magic"}, {"captures": 9}):
        with pytest.raises(KioskError) as info:
            load_settings(None, fingerprint=bad)
        assert info.value.key == "settings_unreadable"
    base = dict(data_dir=tmp_path, reader=ReaderSettings(backend="simulated"))
    kiosk = build_kiosk(Settings(**base))
    assert kiosk.fingerprint is None and kiosk.startup_errors[-1].key == "startup_data_missing"
    kiosk.close()
    # a sensor that cannot be opened is said at start (never a silent fallback); cards keep working, and the
    # service is there around the closed sensor so that the kiosk can open it when it is plugged in
    kiosk = build_kiosk(Settings(**base, fingerprint=FingerprintSettings(backend="libfprint", driver="nope")))
    try:
        assert kiosk.fingerprint is not None and "device_init_failed" in [e.key for e in kiosk.startup_errors]
        assert [e.device for e in kiosk.startup_errors if e.key == "device_init_failed"] == ["sensor"]
    finally:
        kiosk.close()
    kiosk = build_kiosk(Settings(**base, fingerprint=FingerprintSettings(backend="simulated")))
    try:
        assert kiosk.fingerprint is not None and kiosk.fingerprint.captures == 4
        keys = tmp_path / "keys"
        assert stat.S_IMODE(keys.stat().st_mode) == 0o700
        assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in keys.glob("*.key"))
    finally:
        kiosk.close()


def test_presses_made_before_an_enrolment_never_fill_it(fp):
    for _ in range(4):
        fp.sensor.place_finger(1)          # e.g. pressed in 設定 before 指紋を登録 was touched
    fp.capture_timeout = 0.3
    progress = []
    err = error_of(fp.enrol, employee(fp, "1001"), on_progress=progress.append)
    assert (err.key, err.cause_letter) == ("enrollment_cancelled", "A")       # no finger within the capture's wait
    assert [(p.step, p.phase) for p in progress] == [(1, "place")] and fp.store.count() == 0



def heavy_check():
    """A check as if this gallery's strangers reached every genuine level: nothing identifies with it."""
    from dakoku_core.fingerprint.calibration import Calibration
    from dakoku_core.fingerprint.self_check import SelfCheck
    return SelfCheck(Calibration((0.0, 1e4), (0.0, 20.0), 20.0 / 1e4), probes=3, pairs=5000, look_alike=0)


def service_like(fp, run, store=None):
    """Another FingerprintService on ``fp``'s parts (a restart of the kiosk), its self-check run by ``run``."""
    from kiosk.services.fingerprint import FingerprintService
    master, punches = fp._master, fp._punches
    return FingerprintService(fp.sensor, fp.extractor, store or fp.store, master, punches, capture_timeout=5.0,
                              client=fp._client, is_online=fp._is_online, refresh=fp._refresh, self_check_run=run)


def test_the_gallerys_own_strangers_decide_once_their_check_is_done(fp, templates):
    """The service runs the self-check for each new gallery in the background and decides with it once done: a
    check that refuses the finger the table alone accepts, kept for the next gallery, and kept across a restart
    (the ledger's meta table), where it decides before the new run is done."""
    release = threading.Event()

    def run(identifier, stop):
        assert release.wait(10)
        return heavy_check()
    svc = service_like(fp, run)
    svc.enrol_templates(employee(svc, "1001"), templates(1))
    assert place_and_punch(svc, 1).employee.code == "1001"          # the check is not done: the table alone
    release.set()
    assert svc.self_checks.finished.wait(10)
    err = error_of(place_and_punch, svc, 1, PunchKind.CLOCK_OUT)
    assert (err.key, err.cause_letter) == ("auth_failed", "A")
    assert svc.store.kept_self_check() is not None                  # kept in the ledger

    blocked, runs = threading.Event(), []

    def never(identifier, stop):
        runs.append(identifier.gallery)
        blocked.wait(10)
        return None
    restarted = service_like(fp, never)                             # the kiosk restarts
    err = error_of(place_and_punch, restarted, 1, PunchKind.CLOCK_OUT)
    assert (err.key, err.cause_letter) == ("auth_failed", "A")      # the kept check decides
    assert restarted.self_checks.finished.wait(10) and runs == []   # it is this gallery's own: no run again
    restarted.enrol_templates(employee(restarted, "1003"), templates(2))
    restarted.warm_up()
    assert soon(lambda: len(runs) == 1)                             # a new finger: a new gallery, its own run
    blocked.set()
    assert restarted.self_checks.finished.wait(10)                  # too few fingers: the table alone
    restarted.sensor.place_when_asked(1)                            # (a punch again would be already_punched)
    assert restarted.identify(restarted.wait_for_finger(timeout=5.0)).employee_key == employee(fp, "1001").key
    assert restarted.store.kept_self_check() is None


def test_a_damaged_kept_check_is_dropped_and_the_table_decides(fp, templates, caplog):
    fp.store.keep_self_check('{"v": 1, "raw": [0.0, "x"]')          # cut short: not a check
    blocked = threading.Event()
    svc = service_like(fp, lambda identifier, stop: blocked.wait(10) and None)
    assert "not usable" in caplog.text
    svc.enrol_templates(employee(svc, "1001"), templates(1))
    assert place_and_punch(svc, 1).employee.code == "1001"
    blocked.set()


def test_the_service_checks_its_gallery_by_default(fp, templates):
    fp.enrol_templates(employee(fp, "1001"), templates(1))
    fp.warm_up()
    assert fp.self_checks.finished.wait(30)
    assert fp._identifier.self_check is None                        # one finger: too few pairs, the table alone


def soon(condition, timeout: float = 10.0) -> bool:
    """``condition()`` became true within ``timeout`` (polled: a loaded CI machine may schedule a thread late)."""
    deadline = threading.Event()
    for _ in range(int(timeout / 0.01)):
        if condition():
            return True
        deadline.wait(0.01)
    return condition()


def test_a_punch_pauses_the_gallerys_self_check(fp, templates):
    """The capture's extraction and the search run inside ``self_checks.foreground()``: the check, which shares
    the core with them, makes no search meanwhile."""
    from kiosk.services.fingerprint import FingerprintService
    searches, seen = [0], []

    def run(identifier, stop):
        while not stop():
            searches[0] += 1
            threading.Event().wait(0.002)
        return None

    class Watching:                                 # the real extractor, watched while it works
        def extract(self, image, dpi):
            before = searches[0]
            template = fp.extractor.extract(image, dpi)
            threading.Event().wait(0.2)
            seen.append(searches[0] - before)
            return template

    svc = FingerprintService(fp.sensor, Watching(), fp.store, fp._master, fp._punches, capture_timeout=5.0,
                             client=fp._client, is_online=fp._is_online, refresh=fp._refresh, self_check_run=run)
    svc.enrol_templates(employee(svc, "1001"), templates(1))
    svc.warm_up()
    try:
        assert soon(lambda: searches[0] > 0)                       # the check is searching (at nice 19: maybe late)
        assert place_and_punch(svc, 1).employee.code == "1001"
        assert seen and max(seen) <= 1                             # none while the finger was being read
        running = searches[0]
        assert soon(lambda: searches[0] > running + 1)             # and it goes on afterwards
    finally:
        svc.self_checks.cancel()


def test_self_diagnosis_names_two_fingers_the_kiosk_cannot_tell_apart(fp, templates):
    """24 fingers of three employees, and one of them enrolled again for 田中 (written past the duplicate check, as
    a sync could): the gallery's self-check finds the pair, and 自己診断 names both with the catalogue's remedy.
    Once one of them is deleted the line no longer names it, and the next check is clean."""
    from kiosk.services.diagnose import fingerprint_match_check
    assert fingerprint_match_check(fp).detail.startswith("標準の基準")           # nothing checked yet
    sim = 1
    for code in ("1001", "1002", "1003"):
        for finger in range(8):
            fp.store.add(employee(fp, code).key, finger, "HQ", templates(sim, 100, 2))
            sim += 1
    fp.store.add(employee(fp, "1005").key, 0, "STORE", templates(1, 104, 2))        # 山田's finger, again
    fp.warm_up()
    assert fp.self_checks.finished.wait(120)
    line = fingerprint_match_check(fp)
    assert (line.outcome, line.data["error"]) == ("fail", "fingerprint_ambiguous_contact_admin")
    assert "山田 太郎（1001）指紋 1 と 田中 健（1005）指紋 1" in line.detail
    assert fp.self_checks.current.look_alike == 1 and fp.self_checks.current.pairs >= 1000
    fp.store.delete(employee(fp, "1005").key)
    fp.warm_up()                                                    # a new gallery: its check starts
    assert fingerprint_match_check(fp).outcome == "ok"              # the deleted finger is no longer named
    assert fp.self_checks.finished.wait(120)
    line = fingerprint_match_check(fp)
    assert line.outcome == "ok" and "組で確かめ" in line.detail
    assert fp.self_checks.current.look_alike == 0


def test_self_diagnosis_reports_only_look_alikes_of_two_employees_and_warns_when_matching_is_much_stricter(
        fp, templates):
    """A kept check (as a restarted kiosk has it): two of 山田's own fingers alike are no ambiguity (a match is
    decided per employee) and are not named; 山田's and 鈴木's are. A check that raises a match by 30 dB or more is
    異常: most finger punches will fail there, and the line says what to use instead."""
    from dakoku_core.fingerprint.self_check import dumps
    from kiosk.services.diagnose import fingerprint_match_check
    yamada, suzuki = employee(fp, "1001").key, employee(fp, "1003").key
    for key, finger, sim in ((yamada, 0, 1), (yamada, 1, 2), (suzuki, 0, 3)):
        fp.store.add(key, finger, "HQ", templates(sim, 100, 2))
    check = heavy_check()
    alike = (((yamada, 0), (yamada, 1)), ((suzuki, 0), (yamada, 0)))
    fp.store.keep_self_check(dumps(type(check)(check.calibration, 3, 5000, 2, alike)))
    blocked = threading.Event()
    svc = service_like(fp, lambda identifier, stop: blocked.wait(10) and None)
    try:
        state = svc.self_check_state()
        assert [(a.code, fa, b.code, fb) for a, fa, b, fb in state.alike] == [("1003", 0, "1001", 0)]
        line = fingerprint_match_check(svc)
        assert line.outcome == "fail" and "鈴木 一郎（1003）指紋 1 と 山田 太郎（1001）指紋 1" in line.detail
        assert "指紋 2" not in line.detail
        fp.store.delete(suzuki)                                    # the look-alike gone: the heavy check remains
        line = fingerprint_match_check(svc)
        assert line.outcome == "fail" and line.data["raised_db"] >= 30 and "ICカード" in line.detail
    finally:
        blocked.set()
