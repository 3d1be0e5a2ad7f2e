import numpy as np

from dakoku_core.fingerprint.calibration import MAX_SCORE, Calibration, default_calibration, fit


def test_default_table_is_monotonic_and_anchored():
    cal = default_calibration()
    assert all(b > a for a, b in zip(cal.raw, cal.raw[1:]))
    assert all(b > a for a, b in zip(cal.calibrated, cal.calibrated[1:]))
    raws = np.linspace(0.0, 1.0, 2001)
    scores = cal(raws)
    assert np.all(np.diff(scores) >= 0)
    assert cal(0.0) == 0.0 and cal(1.0) == MAX_SCORE
    assert cal.calibrated[-1] >= 40.0          # measured, not extrapolated, up to FMR 0.01 %


def test_fit_reproduces_the_impostor_tail():
    rng = np.random.default_rng(1)
    impostor = rng.beta(2, 60, size=30_000)
    cal = fit(impostor)
    for fmr in (0.1, 0.01, 0.001):
        threshold = np.quantile(impostor, 1 - fmr)
        assert abs(cal(threshold) - (-10 * np.log10(fmr))) <= 1.5
    assert cal.fmr(40.0) == 1e-4


def test_calibration_extrapolates_beyond_the_last_knot():
    cal = Calibration((0.0, 0.1, 0.2), (0.0, 10.0, 20.0), tail_slope=100.0)
    assert cal(0.3) == 30.0 and cal(0.15) == 15.0
