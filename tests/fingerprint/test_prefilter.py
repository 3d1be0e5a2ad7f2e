"""The compact gallery: compressed codes, integer prefilter rows, and a two-stage shortlist that keeps mates."""
import numpy as np
import pytest

from dakoku_core.fingerprint import EnrolledTemplate, Gallery, mcc
from dakoku_core.fingerprint import prefilter as pf
from dakoku_core.fingerprint.code_codec import encode_code

from .conftest import FINGERS


def test_fine_rows_are_the_pooled_cylinders_the_prefilter_always_used(tiny_codes):
    code = tiny_codes[0][0]
    counts = pf.fine_counts(code.packed_bits)
    reference = mcc.compact_code(np.unpackbits(code.packed_bits, axis=1, count=mcc.CELLS))
    assert np.allclose(pf.unit_rows(counts.reshape(len(code), -1)), reference, atol=1e-5)
    assert np.array_equal(pf.unpack_fine(pf.pack_fine(counts)), counts.reshape(len(code), -1))
    coarse = pf.coarse_counts(counts)
    assert coarse.shape == (len(code), pf.COARSE_DIMS)
    assert np.array_equal(coarse.sum(axis=1), counts.reshape(len(code), -1).sum(axis=1))


def test_an_entry_keeps_its_code_compressed_and_gives_it_back_exactly(tiny_codes):
    code = tiny_codes[1][0]
    entry = EnrolledTemplate("e1", 3, code)
    assert encode_code(entry.code) == encode_code(code)
    assert entry.nbytes < len(encode_code(code, compressed=False)) / 2.5          # the bits are sparse
    assert (entry.employee_key, entry.finger) == ("e1", 3)


def test_a_gallery_of_real_codes_takes_a_quarter_of_the_float_stack(tiny_codes):
    gallery = Gallery(EnrolledTemplate(f"e{f}", 1, c) for f in range(FINGERS) for c in tiny_codes[f])
    raw = sum(len(encode_code(c, compressed=False)) for row in tiny_codes for c in row)
    float_stack = len(gallery) * pf.CYLINDERS * 192 * 4            # the prefilter before issue 11
    assert gallery.nbytes < (raw + float_stack) / 4
    per_template = gallery.nbytes / len(gallery)
    assert per_template < 100 * 2 ** 20 / 10_000, per_template       # 10,000 such templates: under 100 MiB


def test_restacking_the_same_entries_gives_the_same_rows(tiny_codes):
    entries = [EnrolledTemplate(f"e{f}", 1, tiny_codes[f][0]) for f in range(FINGERS)]
    first, again = Gallery(entries), Gallery(entries)               # the second recomputes from the codes
    assert np.array_equal(first._stack, again._stack) and np.array_equal(first._coarse, again._coarse)


@pytest.mark.parametrize("coarse_shortlist", [1000, 4])
def test_the_shortlist_finds_each_template_itself_with_and_without_the_coarse_stage(
        tiny_codes, monkeypatch, coarse_shortlist):
    monkeypatch.setattr(pf, "COARSE_SHORTLIST", coarse_shortlist)
    gallery = Gallery(EnrolledTemplate(f"e{f}", 1, c) for f in range(FINGERS) for c in tiny_codes[f])
    for k, entry in enumerate(gallery.entries):
        assert gallery.prefilter(entry.code, 2)[0] == k


def test_the_coarse_stage_keeps_the_mate_of_another_impression(tiny_codes, monkeypatch):
    monkeypatch.setattr(pf, "COARSE_SHORTLIST", 6)                   # of 12 entries: only half go on
    gallery = Gallery(EnrolledTemplate(f"e{f}", 1, tiny_codes[f][k]) for f in range(FINGERS) for k in (0, 2))
    found = sum(any(gallery.entries[i].employee_key == f"e{f}" for i in gallery.prefilter(tiny_codes[f][1], 3))
                for f in range(FINGERS))
    assert found >= FINGERS - 1


def test_an_empty_gallery_restricts_changes_and_shortlists_nothing(tiny_codes):
    empty = Gallery([])
    assert empty.prefilter(tiny_codes[0][0], 5) == [] and empty.nbytes == 0
    assert len(empty.restricted_to({"nobody"})) == 0
    grown = empty.changed({("x", 1)}, [EnrolledTemplate("e0", 1, tiny_codes[0][0])])
    assert len(grown) == 1 and grown.prefilter(tiny_codes[0][0], 1) == [0]
