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
