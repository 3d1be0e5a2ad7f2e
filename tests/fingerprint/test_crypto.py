import os
import sqlite3
import stat

import pytest

from dakoku_core.fingerprint import (
    FileKeyProvider, StaticKeyProvider, TemplateBinding, TemplateCipher, TemplateSealError, to_iso,
)

BINDING = TemplateBinding("emp-42", 1, "D1")


def test_seal_and_open_round_trip(tiny_templates):
    cipher = TemplateCipher(StaticKeyProvider.generate())
    template = tiny_templates[0][0]
    blob = cipher.seal(template, BINDING)
    assert blob[:4] == b"DKFE"
    assert cipher.open(blob, BINDING).same_as(template, tolerance=1e-3)
    assert cipher.seal(template, BINDING) != blob                  # a fresh nonce every time


@pytest.mark.parametrize("other", [TemplateBinding("emp-43", 1, "D1"), TemplateBinding("emp-42", 2, "D1"),
                                   TemplateBinding("emp-42", 1, "D2")])
def test_wrong_associated_data_does_not_open(tiny_templates, other):
    cipher = TemplateCipher(StaticKeyProvider.generate())
    blob = cipher.seal(tiny_templates[0][0], BINDING)
    with pytest.raises(TemplateSealError):
        cipher.open(blob, other)


def test_wrong_key_or_tampering_does_not_open(tiny_templates):
    blob = TemplateCipher(StaticKeyProvider.generate("k1")).seal(tiny_templates[0][0], BINDING)
    with pytest.raises(TemplateSealError):
        TemplateCipher(StaticKeyProvider.generate("k1")).open(blob, BINDING)
    with pytest.raises(TemplateSealError):
        TemplateCipher(StaticKeyProvider.generate("k2")).open(blob, BINDING)     # unknown key id
    keys = StaticKeyProvider.generate("k1")
    good = TemplateCipher(keys).seal(tiny_templates[0][0], BINDING)
    flipped = bytearray(good)
    flipped[-20] ^= 1
    with pytest.raises(TemplateSealError):
        TemplateCipher(keys).open(bytes(flipped), BINDING)


def test_no_plaintext_template_bytes_in_the_sqlite_file(tmp_path, tiny_templates):
    keys = FileKeyProvider(tmp_path / "keys")                     # keys live apart from the database
    cipher = TemplateCipher(keys)
    db_path = tmp_path / "templates.sqlite3"
    with sqlite3.connect(db_path) as db:
        db.execute("CREATE TABLE fp (employee TEXT, finger INTEGER, department TEXT, sealed BLOB)")
        for f, row in enumerate(tiny_templates):
            binding = TemplateBinding(f"emp{f}", 1, "D1")
            db.execute("INSERT INTO fp VALUES (?, ?, ?, ?)",
                       (binding.employee_key, 1, "D1", cipher.seal(row[0], binding)))
    raw = db_path.read_bytes()
    for row in tiny_templates:
        own, iso = row[0].to_bytes(), to_iso(row[0])
        for needle in (own[12:44], own[-32:], iso[28:60]):          # minutia runs, not shared headers
            assert needle not in raw
    assert b"DKFT" not in raw and b"FMR\x00" not in raw
    with sqlite3.connect(db_path) as db:
        sealed = db.execute("SELECT sealed FROM fp WHERE employee = 'emp2'").fetchone()[0]
    assert cipher.open(sealed, TemplateBinding("emp2", 1, "D1")).same_as(tiny_templates[2][0])


def test_file_key_provider_keys_are_private_and_renewable(tmp_path, tiny_templates):
    keys = FileKeyProvider(tmp_path / "keys")
    old_id, _ = keys.current()
    assert stat.S_IMODE(os.stat(tmp_path / "keys" / f"{old_id}.key").st_mode) == 0o600
    cipher = TemplateCipher(keys)
    blob = cipher.seal(tiny_templates[1][0], BINDING)
    new_id = keys.rotate()
    assert new_id != old_id and keys.current()[0] == new_id
    resealed = cipher.reseal(blob, BINDING)
    assert new_id.encode() in resealed[:16]
    assert cipher.open(resealed, BINDING).same_as(tiny_templates[1][0])
    with pytest.raises(KeyError):
        keys.key("../etc")
