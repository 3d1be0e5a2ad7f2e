"""認証に失敗しました cause C for a finger, through the real reference server: a finger enrolled for an employee of
another department matches nothing at an HQ kiosk (it never holds that finger); the server, asked with the probe,
finds it outside the recorder's scope → cause C (ヘルプ登録). An unknown finger stays cause A. In the 2-factor
mode the employee is named by code: C at once. After ヘルプ登録 the same finger punches.

Kiosks run one after another in this process (one ledger at a time). Employees F911 (HQ) and F912 (STORE) are
this module's own; fingers are synthetic (dakoku_core.fingerprint.synth, TEST seeds 80-82)."""
from __future__ import annotations

import time
from contextlib import contextmanager

import pytest

from kiosk.adapters.connection_file import ConnectionFile
from kiosk.app_factory import build_kiosk
from dakoku_core.domain.model import PunchKind
from dakoku_core.errors import KioskError
from dakoku_core.fingerprint.extractors import MindtctExtractor
from dakoku_core.fingerprint.synth.dataset import TEST, impressions_of
from dakoku_server import admin, recorders
from kiosk.ports.recorder_api import ConnectionSettings
from kiosk.settings import FingerprintSettings, ReaderSettings, Settings

from .harness import Provisioning

pytestmark = pytest.mark.timeout(300)
HQ_FINGER, STORE_FINGER, STRANGER = TEST.start + 80, TEST.start + 81, TEST.start + 82
EMPLOYEES = (("F911", "HQ"), ("F912", "STORE"))


@pytest.fixture(scope="module")
def impressions():
    extractor = MindtctExtractor()
    return {seed: [extractor.extract(image) for image in impressions_of(seed, 8)]
            for seed in (HQ_FINGER, STORE_FINGER, STRANGER)}


@pytest.fixture(scope="module")
def texts(sync_server):
    sync_server.bind()
    company = admin.company("DEMO")
    for code, department in EMPLOYEES:
        if admin.Employee.get_or_none((admin.Employee.company == company) & (admin.Employee.code == code)) is None:
            admin.add_employee(company, code, "指紋", department, "FULL", first_name=code)
    url = sync_server.process.url
    return {"HQ": Provisioning.from_text(recorders.add_recorder(company, "RFD", "HQ", server_url=url).text()),
            "STORE": Provisioning.from_text(recorders.add_recorder(company, "RFE", "STORE", server_url=url).text())}


@contextmanager
def kiosk_at(provisioning: Provisioning, data_dir):
    """A provisioned kiosk with the simulated sensor, online (the worker's heartbeat answered), after データ更新."""
    if not (data_dir / "connection.json").exists():
        ConnectionFile(data_dir).save(ConnectionSettings(provisioning.connection_text, provisioning.certificate_text))
    kiosk = build_kiosk(Settings(data_dir=data_dir, reader=ReaderSettings(backend="simulated"),
                                 fingerprint=FingerprintSettings(backend="simulated", demo_fingers=0)))
    try:
        assert kiosk.fingerprint is not None and kiosk.sync.sync.probe()
        kiosk.sync.data_update.update_on_demand()
        yield kiosk
    finally:
        kiosk.close()


def punch_error(kiosk, template) -> KioskError:
    service = kiosk.fingerprint
    with pytest.raises(KioskError) as info:
        service.punch(PunchKind.CLOCK_IN, service._matcher.encode(template))
    return info.value


def test_another_departments_finger_is_cause_c_and_a_strangers_stays_a(sync_server, texts, impressions, tmp_path):
    sync_server.bind()
    company = admin.company("DEMO")
    keys = {e.code: e.key for e in admin.Employee.select().where(admin.Employee.code.in_([c for c, _ in EMPLOYEES]))}
    try:
        with kiosk_at(texts["STORE"], tmp_path / "store") as store:
            employee = store.master.employee_by_code_or_login("F912")
            store.fingerprint.enrol_templates(employee, impressions[STORE_FINGER][:4])

        with kiosk_at(texts["HQ"], tmp_path / "hq") as hq:
            assert keys["F912"] not in hq.fingerprint.store.gallery().employees()   # never held here
            hq.fingerprint.enrol_templates(hq.master.employee_by_code_or_login("F911"), impressions[HQ_FINGER][:4])
            started = time.perf_counter()
            error = punch_error(hq, impressions[STORE_FINGER][6])
            print(f"\ncause C (local search + the server's answer): {(time.perf_counter() - started) * 1000:.0f} ms")
            assert (error.key, error.cause_letter) == ("auth_failed", "C"), error
            assert error.message("ja") == "認証に失敗しました"
            assert error.remedy("ja") == "タイムレコーダーの所属に対してヘルプ登録してください。"
            stranger = punch_error(hq, impressions[STRANGER][6])
            assert (stranger.key, stranger.cause_letter) == ("auth_failed", "A")
            own = hq.fingerprint.punch(PunchKind.CLOCK_IN, hq.fingerprint._matcher.encode(impressions[HQ_FINGER][6]))
            assert own.employee.code == "F911"                                  # the local search still decides
            assert hq.punches.count() == 1                                      # nothing recorded for C or A

            f912 = hq.master.employee_by_code_or_login("F912")                  # 2-factor: named by code
            with pytest.raises(KioskError) as info:
                hq.fingerprint.punch_verified(PunchKind.CLOCK_IN, hq.fingerprint._matcher.encode(
                    impressions[STORE_FINGER][7]), f912)
            assert (info.value.key, info.value.cause_letter) == ("auth_failed", "C")

            assert hq.sync.slot.get().register_help(keys["F912"])               # the advice: ヘルプ登録
            hq.sync.data_update.update_on_demand()
            result = hq.fingerprint.punch(PunchKind.CLOCK_IN,
                                          hq.fingerprint._matcher.encode(impressions[STORE_FINGER][6]))
            assert result.employee.code == "F912"
    finally:
        client = texts["HQ"].client()
        for code, _department in EMPLOYEES:
            for finger in range(10):
                client.delete_fingerprint(keys[code], finger)
        admin.delete_help(company, "F912", "HQ")


def test_the_server_never_says_whose_finger_it_is(sync_server, texts, impressions):
    """The answer is one word; a malformed probe is a 400, never a 500."""
    import base64

    from dakoku_core.fingerprint.code_codec import encode_code
    from dakoku_core.fingerprint.matcher import Matcher

    client = texts["HQ"].client()
    response = client._api.request("POST", "v1/fingerprints/identify", json={
        "code": base64.b64encode(encode_code(Matcher().encode(impressions[STRANGER][6]))).decode()})
    assert response.status_code == 200 and response.json() == {"match": "none"}
    bad = client._api.request("POST", "v1/fingerprints/identify", json={"code": "bm90IGEgY29kZQ=="})
    assert bad.status_code == 400
