"""Stage 1 of the identify calibration: a group of template sizes with too few impostor comparisons must not get
a table of its own (18 comparisons once put raw 0.023 at 200 dB, and a stranger through)."""
import numpy as np

from dakoku_core.fingerprint.calibration import fit
from dakoku_core.fingerprint.identify_calibration import MIN_GROUP_SAMPLES, PAIR_GROUPS, fit_stage1


def test_a_sparse_group_borrows_the_smaller_templates_comparisons():
    rng = np.random.default_rng(5)
    small = rng.exponential(0.05, 5000)            # nP 4-6: many comparisons, a heavy tail
    sparse = rng.exponential(0.001, 18)            # nP 10-11: a handful, all tiny
    full = rng.exponential(0.002, 5000)            # nP 12
    raw = np.concatenate([small, sparse, full])
    pairs = np.array([4] * len(small) + [10] * len(sparse) + [12] * len(full))
    tables = fit_stage1(raw, pairs)
    assert len(tables) == len(PAIR_GROUPS)
    pooled = fit(np.concatenate([small, sparse]))
    for value in (0.01, 0.05, 0.2):
        assert tables[2](value) == pooled(value)               # 10-11 fitted with the 4-9 comparisons
        assert tables[2](value) < 60                           # not the sparse group's own steep tail
    assert fit(sparse)(0.05) > 100                             # which it would have been
    assert tables[3](0.01) == fit(full)(0.01)                  # a full group keeps its own table
    assert tables[0](0.2) == fit(small)(0.2)
    assert len(full) >= MIN_GROUP_SAMPLES
