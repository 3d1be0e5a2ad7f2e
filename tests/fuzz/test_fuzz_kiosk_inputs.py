"""Fuzz what a person pastes or a file holds: connection strings (接続先変更), recorder certificates, settings files."""
from __future__ import annotations

import base64
import json
from dataclasses import fields

from hypothesis import given, settings
from hypothesis import strategies as st

from dakoku_core.protocol.certificate import BEGIN, END, issue_certificate, parse_certificate
from dakoku_core.protocol.connection import _OPTIONAL, _REQUIRED, parse_connection_string
from kiosk.settings import DisplaySettings, FingerprintSettings, ReaderSettings, Settings, SyncSettings, load_settings

from .fuzzing import ends_well, examples
from .strategies import DEEP_JSON_TEXT, JSON, ODD_TEXT, json_text, mutated_bytes, replaced

VALID_CONNECTION = "v=1;url=https://attendance.example.jp:8443/;company=C001;recorder=R001;department=D01;device=card"
CERTIFICATE = issue_certificate("k_" + "0" * 32, "C001", "R001")
CERT_TEXT = CERTIFICATE.format()
CERT_BODY = json.loads(base64.b64decode("".join(CERT_TEXT.split(BEGIN)[1].split(END)[0].split())))


@st.composite
def connection_texts(draw) -> str:
    names = st.sampled_from(_REQUIRED + _OPTIONAL) | ODD_TEXT
    pairs = draw(st.lists(st.tuples(names, ODD_TEXT | st.sampled_from(["1", "card", "https://h/", "sha256:" + "a" * 64])),
                          max_size=9))
    sep = draw(st.sampled_from([";", ";;", " ; ", "\n"]))
    return sep.join(f"{n}={v}" for n, v in pairs)


@given(st.one_of(ODD_TEXT, connection_texts(),
                 mutated_bytes(VALID_CONNECTION.encode()).map(lambda b: b.decode("utf-8", "replace"))))
def test_connection_strings(text):
    ends_well("connection_string", parse_connection_string, text, keys={"connection_string_invalid"})


def certificate_text(body) -> str:
    raw = json_text(body).encode("utf-8", "surrogatepass")
    return f"{BEGIN}\n{base64.b64encode(raw).decode()}\n{END}\n"


@settings(max_examples=examples(150))
@given(st.one_of(
    ODD_TEXT,
    replaced(CERT_BODY).map(certificate_text),
    JSON.map(certificate_text),
    DEEP_JSON_TEXT.map(lambda t: f"{BEGIN}\n{base64.b64encode(t.encode()).decode()}\n{END}"),
    mutated_bytes(CERT_TEXT.encode()).map(lambda b: b.decode("utf-8", "replace")),
))
def test_certificates(text):
    ends_well("certificate", parse_certificate, text, keys={"certificate_invalid"})


SECTIONS = {"reader": ReaderSettings, "fingerprint": FingerprintSettings, "display": DisplaySettings,
            "sync": SyncSettings}
TOP = [f.name for f in fields(Settings)]


@st.composite
def settings_documents(draw):
    doc = {}
    for name in draw(st.lists(st.sampled_from(TOP), max_size=5, unique=True)):
        if name in SECTIONS:
            sub = [f.name for f in fields(SECTIONS[name])]
            doc[name] = draw(st.dictionaries(st.sampled_from(sub), JSON, max_size=4)) if draw(st.booleans()) \
                else draw(JSON)
        else:
            doc[name] = draw(JSON)
    return doc


@settings(max_examples=examples(150))
@given(st.one_of(
    settings_documents().map(lambda d: json_text(d).encode("utf-8", "surrogatepass")),
    JSON.map(lambda d: json_text(d).encode("utf-8", "surrogatepass")),
    DEEP_JSON_TEXT.map(str.encode),
    st.binary(max_size=200),
))
def test_settings_files(tmp_path, data):
    path = tmp_path / "settings.json"
    path.write_bytes(data)
    ends_well("settings_file", load_settings, path, keys={"settings_unreadable"})
