"""Fuzz what the server sends back: master data, punch results, fingerprint payloads (parsed by the kiosk's adapters);
the card's answers to GET DATA (APDU responses and ATRs); and template blobs (own format, ISO/IEC 19794-2, sealed)."""
from __future__ import annotations

import base64
from types import SimpleNamespace

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from kiosk.adapters import pcsc_calls
from kiosk.adapters.fingerprint_endpoints import fingerprints_from_payload
from kiosk.adapters.master_payload import outcomes_from_payload, snapshot_from_payload
from dakoku_core.errors import Situation
from dakoku_core.fingerprint.crypto import StaticKeyProvider, TemplateBinding, TemplateCipher, TemplateSealError
from dakoku_core.fingerprint.iso19794 import from_iso, to_iso
from dakoku_core.fingerprint.template import FingerprintTemplate, TemplateFormatError, decode

from .fuzzing import ends_well, examples
from .strategies import JSON, ODD_TEXT, mutated_bytes, replaced

SERVER_ERROR = {"server_error"}
RNG = np.random.default_rng(7)
TEMPLATE = FingerprintTemplate(np.column_stack([RNG.uniform(0, 300, 30), RNG.uniform(0, 400, 30),
                                                RNG.uniform(0, 6.28, 30), RNG.uniform(0, 100, 30),
                                                RNG.integers(0, 3, 30)]).astype(np.float32), 300, 400, 500)
TEMPLATE_BYTES = TEMPLATE.to_bytes()
ISO_BYTES = to_iso(TEMPLATE)
EMPLOYEE = {"key": "e1", "code": "1001", "last_name": "山田", "first_name": "太郎", "department_code": "HQ",
            "employment_type_code": "FULL", "login_id": "", "kana": "ヤマダ タロウ", "hired_on": "2020-04-01",
            "retired_on": None, "password_punch_allowed": False, "password_hash": ""}
MASTER = {"version": 3, "full": True, "card_key": base64.urlsafe_b64encode(b"k" * 32).decode().rstrip("="),
          "recorder": {"code": "R001", "company_code": "DEMO", "department_code": "HQ", "settings": {}},
          "company": {"timezone": "Asia/Tokyo"}, "departments": [{"code": "HQ", "name": "本社"}],
          "employment_types": [{"code": "FULL", "name": "正社員", "break_punch_allowed": True}],
          "employees": [EMPLOYEE], "credentials": [{"employee_key": "e1", "method": "card", "ref": "abc"}],
          "help_registrations": [{"employee_key": "e1", "department_code": "HQ"}],
          "deleted": [{"kind": "employee", "key": "e0", "version": 2}]}
RESULT = {"uuid": "0b0c0d0e-0000-4000-8000-000000000001", "status": "accepted", "recorded_status": "accepted",
          "error": {"key": "", "cause_letter": None}}
FINGER = {"employee_key": "e1", "finger": 1, "version": 4,
          "templates": [base64.b64encode(TEMPLATE_BYTES).decode()]}
FINGERPRINTS = {"version": 4, "full": True, "fingers": [FINGER],
                "deleted": [{"employee_key": "e2", "finger": 3, "version": 2}]}


def rows_of(valid_row: dict):
    return st.lists(replaced(valid_row) | JSON, max_size=3)


@settings(max_examples=examples(100))
@given(st.one_of(JSON, replaced(MASTER),
                 st.builds(lambda m, e: {**m, "employees": e}, replaced(MASTER), rows_of(EMPLOYEE))))
def test_master_data_payloads(body):
    ends_well("master_payload", snapshot_from_payload, body, '"v3"', Situation.DATA_UPDATE, keys=SERVER_ERROR)


@settings(max_examples=examples(100))
@given(st.one_of(JSON, st.builds(lambda r: {"results": r}, rows_of(RESULT)),
                 st.builds(lambda r: {"results": [r]}, replaced(RESULT, JSON | st.sampled_from(
                     ["accepted", "duplicate", "rejected", "ACCEPTED", ""])))))
def test_punch_result_payloads(body):
    ends_well("punch_result_payload", outcomes_from_payload, body, Situation.PUNCH, keys=SERVER_ERROR)


TEMPLATE_TEXTS = st.one_of(ODD_TEXT, mutated_bytes(TEMPLATE_BYTES).map(lambda b: base64.b64encode(b).decode()),
                           st.binary(max_size=64).map(lambda b: base64.b64encode(b).decode()))


@settings(max_examples=examples(100))
@given(st.one_of(JSON, replaced(FINGERPRINTS),
                 st.builds(lambda f: {**FINGERPRINTS, "fingers": f}, rows_of(FINGER)),
                 st.builds(lambda t: {**FINGERPRINTS, "fingers": [{**FINGER, "templates": t}]},
                           st.lists(TEMPLATE_TEXTS, max_size=4))))
def test_fingerprint_payloads(body):
    ends_well("fingerprint_payload", fingerprints_from_payload, body, '"f4"', Situation.DATA_UPDATE,
              keys=SERVER_ERROR)


# -- APDU responses and ATRs -------------------------------------------------------------------------------------
class FakeScard(SimpleNamespace):
    """pyscard's scard module as read_uid uses it, answering with the drawn hresults, ATR and response."""

    SCARD_SHARE_SHARED, SCARD_PROTOCOL_T0, SCARD_PROTOCOL_T1, SCARD_LEAVE_CARD = 2, 1, 2, 0

    def SCardConnect(self, *_):
        return self.connect_hr, 1, 2

    def SCardStatus(self, _card):
        return self.status_hr, "reader", 0, 2, self.atr

    def SCardTransmit(self, *_):
        return self.transmit_hr, self.response

    def SCardDisconnect(self, *_):
        return 0


HRESULTS = st.sampled_from([0, 0, 0, pcsc_calls.E_TIMEOUT, pcsc_calls.E_NO_SERVICE, pcsc_calls.E_UNKNOWN_READER,
                            pcsc_calls.F_COMM_ERROR, 0x80100069, 0x8010000C]) | st.integers(-2**31, 2**32 - 1)
BYTE_LISTS = st.lists(st.integers(0, 255), max_size=40)
RESPONSES = st.one_of(BYTE_LISTS, BYTE_LISTS.map(lambda b: b + [0x90, 0x00]), st.none())


@given(HRESULTS, HRESULTS, HRESULTS, st.one_of(BYTE_LISTS, st.none()), RESPONSES)
def test_apdu_responses(monkeypatch, connect_hr, status_hr, transmit_hr, atr, response):
    fake = FakeScard(connect_hr=connect_hr, status_hr=status_hr, transmit_hr=transmit_hr, atr=atr, response=response)
    monkeypatch.setattr(pcsc_calls, "scard", fake)
    # ServiceLost / ReaderLost are the documented internal refusals the reader adapter maps (pcsc_reader.py).
    outcome, result = ends_well("apdu_response", pcsc_calls.read_uid, 1, "reader",
                                refusals=(pcsc_calls.ServiceLost, pcsc_calls.ReaderLost))
    if outcome == "ok":
        assert result.ok == bool(result.card_id) and (result.ok or result.failure)
        if result.ok:
            assert bytes(response[-2:]) == b"\x90\x00" and result.card_id == bytes(response[:-2]).hex().upper()
    ends_well("atr", pcsc_calls.card_type_from_atr, bytes(atr or b""))


# -- template blobs -------------------------------------------------------------------------------------------------
@given(st.one_of(st.binary(max_size=80), mutated_bytes(TEMPLATE_BYTES)))
def test_template_blobs(blob):
    ends_well("template_blob", decode, blob, refusals=(TemplateFormatError,))


@given(st.one_of(st.binary(max_size=80), mutated_bytes(ISO_BYTES)))
def test_iso19794_records(blob):
    ends_well("iso19794_record", from_iso, blob, refusals=(TemplateFormatError,))


CIPHER = TemplateCipher(StaticKeyProvider({"k1": b"\x01" * 32}, "k1"))
BINDING = TemplateBinding("e1", 1, "HQ")
SEALED = CIPHER.seal(TEMPLATE, BINDING)


@given(st.one_of(st.binary(max_size=80), mutated_bytes(SEALED)))
def test_sealed_templates(blob):
    ends_well("sealed_template", CIPHER.open, blob, BINDING, refusals=(TemplateSealError,))
    ends_well("sealed_code", CIPHER.open_code, blob, BINDING, refusals=(TemplateSealError,))
