"""The stored form of a cylinder code: version 2 (compressed) written, version 1 still read, both exact; a code
opened from the store is held by the gallery in its stored bytes; bytes from the network cannot inflate without
bound."""
import struct
import zlib

import numpy as np
import pytest

from dakoku_core.fingerprint import EnrolledTemplate, Gallery, Matcher
from dakoku_core.fingerprint import prefilter as pf
from dakoku_core.fingerprint.code_codec import CodeFormatError, decode_code, encode_code
from dakoku_core.fingerprint.crypto import StaticKeyProvider, TemplateBinding, TemplateCipher

ARRAYS = ("xy", "angles", "packed_bits", "packed_valid")


def same(a, b) -> bool:
    return len(a) == len(b) and all(np.array_equal(getattr(a, k), getattr(b, k)) for k in ARRAYS)


def test_both_versions_give_the_code_back_exactly_and_the_new_one_is_a_third(tiny_codes):
    code = tiny_codes[0][0]
    plain, packed = encode_code(code, compressed=False), encode_code(code)
    assert plain[4] == 1 and packed[4] == 2 and len(packed) < len(plain) / 2.5
    for data in (plain, packed):
        again = decode_code(data)
        assert same(again, code) and Matcher().score(again, code) == Matcher().score(code, code)
    assert decode_code(plain).encoded is None and decode_code(packed).encoded == packed
    assert encode_code(decode_code(plain)) == packed              # an old stored code, sealed again, is packed


def test_a_code_opened_from_the_store_is_held_as_stored_not_compressed_again(tiny_codes, monkeypatch):
    cipher, binding = TemplateCipher(StaticKeyProvider.generate()), TemplateBinding("e1", 2, "D1")
    blob = cipher.seal_code(tiny_codes[1][0], binding)
    opened = cipher.open_code(blob, binding)
    monkeypatch.setattr(zlib, "compress", lambda *_: pytest.fail("a stored code must not be compressed again"))
    entry = EnrolledTemplate("e1", 2, opened)
    assert entry.nbytes == len(opened.encoded) and same(entry.code, tiny_codes[1][0])
    stacked = Gallery([entry])
    assert stacked.prefilter(tiny_codes[1][0], 1) == [0]


def test_damaged_or_oversized_bodies_are_refused(tiny_codes):
    packed = encode_code(tiny_codes[0][0])
    n = struct.unpack_from("<H", packed, 5)[0]
    for bad in (packed[:-1], packed + b"\0", packed[:7] + b"junk" + packed[11:],
                struct.pack("<4sBH", b"DKCC", 3, n) + packed[7:]):
        with pytest.raises(CodeFormatError):
            decode_code(bad)
    bomb = struct.pack("<4sBH", b"DKCC", 2, 1) + zlib.compress(bytes(50_000_000), 9)   # 1 cylinder, 50 MB body
    with pytest.raises(CodeFormatError):
        decode_code(bomb)


def test_the_stacked_rows_are_the_pooled_counts_of_the_reference_path(tiny_codes):
    bits = np.concatenate([c.packed_bits for row in tiny_codes for c in row])
    coarse, fine = pf.stack_rows(bits)
    counts = pf.fine_counts(bits)
    assert np.array_equal(pf.unpack_fine(fine), counts.reshape(len(bits), -1))
    assert np.array_equal(coarse, np.rint(255.0 * pf.unit_rows(pf.coarse_counts(counts))).astype(np.uint8))
    plain = np.unpackbits(bits, axis=1).reshape(len(bits), 8, 2, 8, 2, 3, 2).sum(axis=(2, 4, 6))
    assert np.array_equal(counts, plain)
