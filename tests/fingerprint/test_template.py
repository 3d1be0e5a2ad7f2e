import numpy as np
import pytest

from dakoku_core.fingerprint import FingerprintTemplate, MinutiaKind, TemplateFormatError, from_iso, to_iso


def sample() -> FingerprintTemplate:
    rng = np.random.default_rng(3)
    n = 40
    return FingerprintTemplate.from_columns(
        rng.integers(0, 320, n), rng.integers(0, 384, n), rng.uniform(0, 2 * np.pi, n), rng.integers(0, 101, n),
        rng.choice([MinutiaKind.ENDING, MinutiaKind.BIFURCATION], n), width=320, height=384)


def test_own_format_round_trip_keeps_minutiae_to_format_precision():
    t = sample()
    back = FingerprintTemplate.from_bytes(t.to_bytes())
    assert back.same_as(t, tolerance=2 * np.pi / 65536 + 1e-6)
    assert t.to_bytes()[:5] == b"DKFT\x01"


def test_own_format_rejects_other_bytes_and_versions():
    data = sample().to_bytes()
    with pytest.raises(TemplateFormatError):
        FingerprintTemplate.from_bytes(b"XXXX" + data[4:])
    with pytest.raises(TemplateFormatError):
        FingerprintTemplate.from_bytes(data[:4] + b"\x09" + data[5:])
    with pytest.raises(TemplateFormatError):
        FingerprintTemplate.from_bytes(data[:-3])


def test_iso_19794_2_round_trip_and_header():
    t = sample()
    record = to_iso(t, finger_position=2)
    assert record[:8] == b"FMR\x00 20\x00"
    assert int.from_bytes(record[8:12], "big") == len(record)
    assert int.from_bytes(record[18:20], "big") == 197          # 500 dpi in pixels per centimetre
    assert record[24] == 2 and record[27] == len(t)
    back = from_iso(record)
    assert (back.width, back.height, back.dpi) == (320, 384, 500)
    assert np.array_equal(back.xy, t.xy) and np.array_equal(back.kinds, t.kinds)
    assert np.allclose(back.qualities, t.qualities)
    diff = np.abs((back.angles - t.angles + np.pi) % (2 * np.pi) - np.pi)
    assert diff.max() <= np.pi / 256 + 1e-5                     # ISO angle unit: 1.40625 degrees


def test_iso_rejects_a_foreign_record():
    with pytest.raises(TemplateFormatError):
        from_iso(b"FIR\x00 10\x00" + bytes(40))
