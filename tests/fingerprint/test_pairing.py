"""The second stage (pairing after the best alignment) separates mates from strangers on real mindtct templates,
and tolerates a smooth non-linear stretch that grows away from the centre."""
import numpy as np

from dakoku_core.fingerprint import pairing, relaxation
from dakoku_core.fingerprint.mcc import local_similarities
from dakoku_core.fingerprint.template import FingerprintTemplate

from .conftest import FINGERS, IMPRESSIONS


def second(a, b) -> float:
    _, ia, ib = relaxation.lss_r_pairs(a, b, local_similarities(a, b))
    return pairing.pairing_score(a, b, ia, ib)


def test_mates_pair_up_and_strangers_do_not(tiny_codes):
    mates = [second(row[j], row[0]) for row in tiny_codes for j in range(1, IMPRESSIONS)]
    strangers = [second(tiny_codes[f][1], tiny_codes[g][0]) for f in range(FINGERS) for g in range(FINGERS) if f != g]
    assert np.median(mates) > 0.25
    assert max(strangers) < np.median(mates)
    assert np.median(strangers) < 0.1


def test_a_copy_pairs_fully_and_a_stretched_copy_still_mostly(tiny_templates, matcher):
    t = tiny_templates[0][0]
    a = matcher.encode(t)
    assert second(a, a) > 0.9
    m = t.minutiae.copy().astype(np.float64)
    centre = m[:, :2].mean(axis=0)
    offset = m[:, :2] - centre
    m[:, :2] = centre + offset * (1 + 0.0006 * np.hypot(*offset.T))[:, None]   # 6 % stretch at 100 px
    stretched = matcher.encode(FingerprintTemplate(m.astype(t.minutiae.dtype), t.width, t.height))
    assert second(a, stretched) > 0.5


def test_fused_score_rewards_pairing():
    assert pairing.fused_raw(0.3, 0.8) > pairing.fused_raw(0.3, 0.1) > pairing.fused_raw(0.3, 0.0)


def bent(t: FingerprintTemplate, k: float) -> FingerprintTemplate:
    """Rows shift sideways by k x 20 px at 100 px from the centre, columns up by k x 12 px: no affine map undoes it."""
    m = t.minutiae.copy().astype(np.float64)
    x, y = (m[:, :2] - m[:, :2].mean(axis=0)).T
    m[:, 0] += k * 0.002 * y * np.abs(y)
    m[:, 1] += k * 0.0012 * x * np.abs(x)
    return FingerprintTemplate(m.astype(t.minutiae.dtype), t.width, t.height)


def test_thin_plate_refit_follows_a_bend_an_affine_map_cannot(tiny_templates, matcher, monkeypatch):
    pairs = [(matcher.encode(row[0]), matcher.encode(bent(row[0], k))) for row in tiny_templates for k in (1.0, 1.5)]
    with_tps = [second(a, b) for a, b in pairs]
    monkeypatch.setattr(pairing, "TPS_MIN_PAIRS", 10 ** 9)
    without = [second(a, b) for a, b in pairs]
    assert min(np.subtract(with_tps, without)) > -0.02      # never much worse ...
    assert np.mean(with_tps) > np.mean(without) + 0.02     # ... and better on the whole (+0.03 here)
