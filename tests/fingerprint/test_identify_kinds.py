"""The identify path's own calibration: template-size stages, the worst kind, and strangers on partial prints."""
from dataclasses import replace

import numpy as np
import pytest

from dakoku_core.errors import KioskError
from dakoku_core.fingerprint import EnrolledTemplate, FingerprintIdentifier, Gallery, Matcher
from dakoku_core.fingerprint.calibration import Calibration, fit, fit_tail, raw_at, with_margin, worst_of
from dakoku_core.fingerprint.identify_calibration import PAIR_GROUPS, identify_calibration, pair_group
from dakoku_core.fingerprint.open_set import Search, SearchRun, enrol_half, run_searches, summarise
from dakoku_core.fingerprint.synth.dataset import SeedRange
from dakoku_core.fingerprint.synth.kinds import KINDS, kind_templates


def test_raw_at_inverts_a_calibration_inside_and_along_its_tail():
    cal = Calibration((0.0, 0.1, 0.2), (0.0, 10.0, 20.0), tail_slope=100.0)
    assert raw_at(cal, [5.0, 20.0, 30.0]) == pytest.approx([0.05, 0.2, 0.3])
    for level in (3.0, 17.0, 45.0):
        assert cal(float(raw_at(cal, level))) == pytest.approx(level)


def test_a_safety_margin_asks_a_threshold_for_what_the_calibration_needed_margin_db_higher():
    cal = Calibration((0.0, 0.1, 0.2, 0.3), (0.0, 10.0, 20.0, 30.0), tail_slope=100.0)
    safe = with_margin(cal, 6.0)
    assert raw_at(safe, [4.0, 24.0, 44.0]) == pytest.approx(raw_at(cal, [10.0, 30.0, 50.0]))
    assert safe(0.05) == 0.0 and safe(0.2) == pytest.approx(14.0)
    assert with_margin(cal, 0.0) == cal


def test_more_strangers_than_enrolled_fingers_search_the_same_gallery():
    kind = replace(KINDS["base"], tuning=SeedRange("tiny", 990_000, 990_004))
    templates = kind_templates(kind, "tuning", 4, impressions=5)
    run = run_searches(templates, enrolled=1)
    assert run.keys == frozenset({"f0"}) and sum(s.own == "f0" for s in run.searches) == 1
    assert sum(s.own is None for s in run.searches) == 3 * 5


def test_worst_of_needs_the_highest_raw_score_of_any_kind_at_every_level():
    light = Calibration((0.0, 0.1), (0.0, 20.0), tail_slope=200.0)     # 40 dB at 0.2
    heavy = Calibration((0.0, 0.05), (0.0, 20.0), tail_slope=50.0)     # 40 dB at 0.45
    worst = worst_of([light, heavy])
    assert raw_at(worst, 10.0) == pytest.approx(0.05)                  # the light kind is worse low down
    assert raw_at(worst, 40.0) == pytest.approx(0.45)                  # the heavy tail is worse up high
    assert worst(0.45) == pytest.approx(40.0) and light(0.45) > 40.0


def test_shipped_table_asks_more_of_small_templates_than_of_full_ones():
    cal = identify_calibration()
    full, small = cal.by_pairs[pair_group(12)], cal.by_pairs[pair_group(4)]
    assert len(PAIR_GROUPS) == len(cal.by_pairs)
    for level in (20.0, 30.0, 40.0):
        assert raw_at(small, level) > 2 * raw_at(full, level)
    levels = np.linspace(0, 90, 91)
    assert np.all(np.diff([cal(v) for v in levels]) >= 0)
    assert cal.finger(float(raw_at(cal.finger, 60.0))) == pytest.approx(60.0)


def test_summarise_counts_every_enrolled_finger_a_search_did_not_reach():
    run = SearchRun([Search("a", [("a", 0.3, 12), ("b", 0.1, 12), ("a", 0.5, 12)]),
                     Search(None, [("c", 0.2, 4)])], frozenset("abcd"), 0)
    scores = summarise(run, lambda raw, pairs: raw * 100 + pairs)
    assert scores.genuine.tolist() == [pytest.approx(62.0 + 0.2 * 42.0)]      # best + 0.2 x second of "a"
    assert scores.genuine_enrolled.tolist() == [True]
    assert scores.rival.tolist() == [22.0]
    assert scores.impostor_top.tolist() == [24.0]
    assert sorted(scores.impostor_pairs.tolist()) == [0.0] * 5 + [22.0, 24.0]    # 3 others + 4 fingers
    assert scores.per_finger_fmr(20.0) == pytest.approx(2 / 7)


@pytest.fixture(scope="module")
def partial_prints():
    """8 fingers x 6 captures from a small (176 px, about 9 mm) sensor: TEST seeds, never fitted on."""
    tiny = SeedRange("kinds-test", 905_000, 906_000)
    kind = replace(KINDS["small_sensor"], name="small_sensor-test", tuning=tiny, reporting=tiny)
    return kind_templates(kind, "tuning", 8)


def test_strangers_with_partial_prints_are_not_taken_for_anyone(partial_prints):
    # Small prints average few pairs, so a stranger's raw score is often as high as a genuine full print's
    # (0.25-0.45 on this kind): the single pairwise table put every one of them above the threshold.
    matcher = Matcher()
    entries, failed = enrol_half(partial_prints, matcher)
    identifier = FingerprintIdentifier(Gallery(entries), matcher)
    strangers = [t for row in partial_prints[len(partial_prints) // 2:] for t in row]
    assert len(entries) >= 6 and len(strangers) == 24
    outcomes = []
    for t in strangers:
        with pytest.raises(KioskError) as info:
            identifier.identify(matcher.encode(t))
        outcomes.append(info.value.key)
    assert set(outcomes) == {"auth_failed"}
    raw = [r for t in strangers for _, r, _ in identifier.candidate_scores(matcher.encode(t), identifier.gallery)]
    assert max(raw) > matcher.calibration.raw[-1]        # beyond the pairwise table's 43 dB: it would have matched


def test_genuine_partial_prints_are_still_found_most_of_the_time(partial_prints):
    matcher = Matcher()
    entries, _ = enrol_half(partial_prints, matcher)
    identifier = FingerprintIdentifier(Gallery(entries), matcher)
    keys = {e.employee_key for e in entries}
    found = 0
    for f in range(len(partial_prints) // 2):
        for t in partial_prints[f][4:]:
            try:
                found += identifier.identify(matcher.encode(t)).employee_key == f"f{f}"
            except KioskError as exc:
                assert exc.key == "auth_failed"            # never someone else
    assert found >= len(keys)                              # at least half of the 2 searches per finger


def test_fit_of_a_kind_is_its_own_empirical_tail():
    rng = np.random.default_rng(3)
    cal = fit(rng.beta(2, 40, 20_000))
    assert worst_of([cal, cal]).raw[-1] >= cal.raw[-1]


def test_fit_tail_extrapolates_on_the_safe_side_of_an_exponential_tail():
    rng = np.random.default_rng(5)
    sample = rng.exponential(1.0, 25_000)               # true level at x: 10 log10(e) x dB
    cal = fit_tail(sample)
    for x in (10.0, 15.0):
        true = 10 * np.log10(np.e) * x
        assert true - 12 <= cal(x) <= true              # never promises a rarer false match than there is
    assert fit_tail(sample, z=0.0)(15.0) > cal(15.0)    # the margin costs points, on purpose


def _benchmark(name: str = "fingerprint_identify_kinds"):
    import importlib.util
    from pathlib import Path
    path = Path(__file__).resolve().parents[2] / "benchmarks" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_benchmarks_margin_prediction_agrees_with_a_simulation_of_the_rule():
    """Predicted FPIR with the top-two margin: the best of N strangers' finger scores reaches the threshold and
    beats the second by the margin. On an exactly calibrated scale (score = -10 log10 U, U uniform) the formula must
    agree with drawing the N scores."""
    from dakoku_core.fingerprint.calibration import Calibration
    bench = _benchmark()
    exact = Calibration((0.0, 200.0), (0.0, 200.0), 1.0)
    size, level, margin = 20, 20.0, 5.0
    predicted = bench.fpir_margin_predicted(exact, level, margin, size, exact)
    rng = np.random.default_rng(11)
    scores = -10 * np.log10(rng.random((200_000, size)))
    top2 = np.sort(scores, axis=1)[:, -2:]
    simulated = np.mean((top2[:, 1] >= level) & (top2[:, 0] < level) & (top2[:, 1] - top2[:, 0] >= margin))
    assert simulated > 0.005
    assert abs(predicted - simulated) < 0.1 * simulated
    no_margin = bench.fpir_margin_predicted(exact, level, 0.0, size, exact)     # exactly one stranger above
    p = 10 ** (-level / 10)
    assert abs(no_margin - size * p * (1 - p) ** (size - 1)) < 0.02 * no_margin


def test_the_benchmarks_fnir_draws_the_rivals_the_set_lacks_at_n():
    from dakoku_core.fingerprint.calibration import Calibration
    from dakoku_core.fingerprint.open_set import OpenSetScores
    bench = _benchmark()
    exact = Calibration((0.0, 200.0), (0.0, 200.0), 1.0)
    scores = OpenSetScores(genuine=np.array([100.0, 62.0, 55.0]), rival=np.array([10.0, 10.0, 10.0]),
                           impostor_top=np.zeros(1), impostor_pairs=np.zeros(1), enrolled=3, enrolment_failed=0,
                           genuine_enrolled=np.ones(3, bool))
    missed = bench.fnir_margin(scores, exact, 60.0, 30.0, 1000, exact)
    # the set has 3 enrolled fingers, so 997 rivals are drawn. 100 dB: kept unless one reaches the threshold of
    # 60 dB (ambiguous); 62 dB: kept if they all stay below 62 - 30 = 32 dB, (1 - 10^-3.2)^997 = 0.53; 55 dB: below
    # the threshold. At the set's own size nothing is drawn: the observed rule.
    kept = [(1 - 10 ** -6.0) ** 997, (1 - 10 ** -3.2) ** 997, 0.0]
    assert abs(missed - np.mean([1 - k for k in kept])) < 1e-9
    assert bench.fnir_margin(scores, exact, 60.0, 30.0, 3, exact) == 1 / 3


def test_the_separation_benchmark_pairs_a_strangers_captures_and_needs_both_to_name_the_finger():
    bench = _benchmark("fingerprint_separation")
    spike = [("f0", 0.5, 6)]
    genuine = [Search("f0", [("f0", 0.4, 8)]), Search("f0", [("f0", 0.3, 8)]),
               Search("f1", [("f1", 0.4, 8)]), Search("f1", [("f0", 0.2, 8)])]
    # the stranger reaches f0 on capture 0 only, and on both captures 2 and 3
    stranger = [Search(None, spike), Search(None, []), Search(None, spike), Search(None, spike),
                Search(None, []), Search(None, [])]
    run = SearchRun(genuine + stranger + [Search(None, [])] * 6, frozenset({"f0", "f1"}), 0)
    own, strangers = bench.split_searches(run, 4)
    assert sorted(own) == ["f0", "f1"] and len(strangers) == 2
    first, second = own["f1"]
    assert bench.both(first, second, "f1") == 0.0            # its second capture did not name it
    assert bench.both(*own["f0"], "f0") == pytest.approx(min(own["f0"][0]["f0"], own["f0"][1]["f0"]))
    pairs = [bench.both(strangers[0][a], strangers[0][b], "f0") for a, b in bench.STRANGER_PAIRS]
    assert pairs[0] == 0.0 and pairs[1] > 0.0 and pairs[2] == 0.0
    with pytest.raises(AssertionError):
        bench.split_searches(SearchRun(genuine + stranger, frozenset({"f0", "f1"}), 0), 4)


def test_the_separation_benchmarks_gallery_sample_never_scores_a_finger_against_itself(partial_prints):
    bench = _benchmark("fingerprint_separation")
    matcher = Matcher()
    entries, _ = enrol_half(partial_prints, matcher)
    gallery = Gallery(entries)
    own = bench.gallery_levels(gallery, matcher)
    assert {key: len(subs) for key, subs in own.items()} == {
        key: len(gallery.of_employee(key)) for key in gallery.employees()}
    assert all(key not in levels for key, subs in own.items() for levels in subs)
    assert any(levels for subs in own.values() for levels in subs)      # other fingers were scored
