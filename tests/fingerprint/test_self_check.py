"""The gallery's own strangers (dakoku_core.fingerprint.self_check): fitted on the deployment's enrolled fingers,
it raises what a match needs where their tail is heavier than the table's, and never lowers it."""
from __future__ import annotations

import threading
from types import SimpleNamespace

import numpy as np
import pytest

from dakoku_core.errors import KioskError
from dakoku_core.fingerprint import EnrolledTemplate, FingerprintIdentifier, Gallery
from dakoku_core.fingerprint.calibration import Calibration, raw_at
from dakoku_core.fingerprint.enroll import consolidate
from dakoku_core.fingerprint.identify_calibration import IdentifyCalibration
from dakoku_core.fingerprint.policy import Thresholds
from dakoku_core.fingerprint.self_check import MIN_PAIRS, SelfCheck, self_check
from dakoku_core.fingerprint.synth.kinds import kind_templates

from .conftest import FINGERS

IDENTITY = Calibration((0.0, 1.0), (0.0, 1.0), 1.0)     # level = dB: the promise is FMR 10^(-level / 10)
SCALE_DB = 10.0 / np.log(10.0)                          # a stranger's level that keeps that promise: Exp(4.34)


class Scripted:
    """What self_check needs of an identifier, with every (probe, other finger) level drawn from ``draw``: the
    fitting logic without matching, so the tail is known."""

    def __init__(self, fingers: int, subs: int, draw, twins: tuple[int, int] | None = None):
        entries = []
        for f in range(fingers):
            for _ in range(subs):
                entry = SimpleNamespace(employee_key=f"e{f}", finger=1)
                entry.code = entry                  # the scripted search is told whose sub-template it is
                entries.append(entry)
        self.gallery = SimpleNamespace(entries=entries)
        self.base_calibration = self.calibration = IdentifyCalibration((IDENTITY,) * 4, IDENTITY)
        self.thresholds = Thresholds()
        self.draw, self.twins, self.fingers = draw, twins, fingers

    def candidate_scores(self, _code, _gallery):
        raise AssertionError("replaced per probe")


def scripted_check(fingers: int, draw, twins=None, seed: int = 1, subs: int = 2,
                   candidates: int | None = None) -> SelfCheck | None:
    """``candidates``: other sub-templates scored per search (the prefilter's 30), the rest count as 0."""
    ident = Scripted(fingers, subs, draw, twins)
    rng = np.random.default_rng(seed)

    def search(me, _gallery):                        # the scripted entry is its own code
        out = []
        others = [e for e in ident.gallery.entries if e.employee_key != me.employee_key]
        if candidates is not None:
            others = [others[int(k)] for k in rng.choice(len(others), candidates, replace=False)]
        for entry in others:
            pair = {me.employee_key, entry.employee_key}
            level = float(draw(rng))                    # drawn for the twins too: the same sample otherwise
            if twins and pair == {f"e{twins[0]}", f"e{twins[1]}"}:
                level = 300.0
            out.append((entry, level, 12))
        return out
    ident.candidate_scores = search
    return self_check(ident)


def test_a_gallery_whose_strangers_keep_the_promise_adds_little_and_a_heavy_one_adds_a_lot():
    base = IdentifyCalibration((IDENTITY,) * 4, IDENTITY)
    level = Thresholds().identify(40)                   # 46 dB: the threshold of this gallery's own N
    light = [scripted_check(40, lambda rng: rng.exponential(SCALE_DB), seed=s) for s in range(5)]
    heavy = [scripted_check(40, lambda rng: rng.exponential(3 * SCALE_DB), seed=s) for s in range(5)]
    assert all(c.pairs >= MIN_PAIRS and c.look_alike == 0 for c in light + heavy)
    # 3,120 pairs: the light tail's 95 % upper bound and the table's 6 dB cost 10-35 dB over seeds (a real gallery
    # of a fitted kind gets 0: the table is pessimistic itself); a tail three times as heavy needs about three times
    # the level
    assert max(c.raises(base, level) for c in light) < 40.0
    assert min(c.raises(base, level) for c in heavy) > 100.0


def test_one_finger_enrolled_for_two_employees_is_left_out_not_fitted():
    base = IdentifyCalibration((IDENTITY,) * 4, IDENTITY)
    draw = lambda rng: rng.exponential(SCALE_DB)     # noqa: E731
    plain = scripted_check(40, draw, seed=3)
    twinned = scripted_check(40, draw, twins=(4, 9), seed=3)
    assert twinned.look_alike == 1
    assert abs(twinned.raises(base, 60.0) - plain.raises(base, 60.0)) < 1.0


def test_a_gallery_too_small_to_say_anything_leaves_the_table_alone():
    assert scripted_check(8, lambda rng: rng.exponential(SCALE_DB)) is None


@pytest.fixture(scope="module")
def base_gallery(matcher) -> Gallery:
    """24 fingers of the kind the table was fitted on, enrolled as the kiosk enrols (4 captures, consolidated)."""
    rows = kind_templates("base", "tuning", 24, impressions=4)
    entries = []
    for f, row in enumerate(rows):
        entries += [EnrolledTemplate(f"emp{f}", 1, code) for code in consolidate(row, matcher).codes]
    return Gallery(entries)


def test_on_real_prints_of_a_fitted_kind_the_check_runs_and_a_twin_is_a_look_alike(base_gallery, matcher):
    check = self_check(FingerprintIdentifier(base_gallery, matcher))
    assert check is not None and check.pairs >= MIN_PAIRS and check.look_alike == 0
    twin = Gallery(list(base_gallery.entries)
                   + [EnrolledTemplate("twin", 1, e.code) for e in base_gallery.entries if e.employee_key == "emp3"])
    twinned = self_check(FingerprintIdentifier(twin, matcher))
    assert twinned.look_alike == 1
    identifier = FingerprintIdentifier(base_gallery, matcher)
    for n in (24, 1000):
        level = Thresholds().identify(n)
        assert abs(twinned.raises(identifier.base_calibration, level)
                   - check.raises(identifier.base_calibration, level)) < 5.0


def test_a_heavy_tailed_check_refuses_what_the_table_alone_accepts(tiny_codes):
    gallery = Gallery(EnrolledTemplate(f"emp{f}", 1, tiny_codes[f][k]) for f in range(FINGERS) for k in (0, 2))
    identifier = FingerprintIdentifier(gallery)
    match = identifier.identify(tiny_codes[0][1])
    assert match.employee_key == "emp0"
    level = identifier.raw_scores(tiny_codes[0][1], gallery)["emp0"][0]
    # this gallery's strangers (as if) reach twice the genuine level at FMR 1 %: nothing here can be trusted
    heavy = SelfCheck(Calibration((0.0, 2 * level), (0.0, 20.0), 20.0 / (2 * level)), probes=12, pairs=5000,
                      look_alike=0)
    identifier.apply_self_check(heavy)
    with pytest.raises(KioskError) as info:
        identifier.identify(tiny_codes[0][1])
    assert info.value.key == "auth_failed" and info.value.cause_letter == "A"
    identifier.apply_self_check(None)                       # the table alone again
    assert identifier.identify(tiny_codes[0][1]).employee_key == "emp0"


def test_a_light_check_never_lowers_the_table(tiny_codes):
    gallery = Gallery(EnrolledTemplate(f"emp{f}", 1, tiny_codes[f][k]) for f in range(FINGERS) for k in (0, 2))
    identifier = FingerprintIdentifier(gallery)
    lenient = SelfCheck(Calibration((0.0, 1e-6), (0.0, 200.0), 1e9), probes=12, pairs=5000, look_alike=0)
    identifier.apply_self_check(lenient)
    levels = np.linspace(0.0, 150.0, 61)
    table = identifier.base_calibration.finger
    assert np.all(np.asarray(identifier.calibration.finger(levels)) <= np.asarray(table(levels)) + 1e-6)


def test_a_new_gallery_keeps_the_previous_check_until_its_own_is_done(tiny_codes):
    from dakoku_core.fingerprint.self_check import BackgroundSelfCheck
    gates = {}

    def run(identifier, stop):
        gate = gates.setdefault(id(identifier.gallery), threading.Event())
        assert gate.wait(10)
        if stop():
            return None
        return SelfCheck(IDENTITY, probes=len(identifier.gallery), pairs=5000, look_alike=0)

    def gallery(fingers):
        return Gallery(EnrolledTemplate(f"emp{f}", 1, tiny_codes[f][0]) for f in range(fingers))

    checks = BackgroundSelfCheck(run)
    first = FingerprintIdentifier(gallery(FINGERS))
    checks.attach(first)
    assert first.self_check is None                               # nothing finished yet: the table alone
    gates.setdefault(id(first.gallery), threading.Event()).set()
    assert checks.finished.wait(10)
    assert first.self_check.probes == FINGERS                     # its own check, once done
    second = FingerprintIdentifier(gallery(FINGERS - 1))          # a finger deleted: a new gallery
    checks.attach(second)
    assert second.self_check is first.self_check                 # the previous one meanwhile
    third = FingerprintIdentifier(gallery(FINGERS - 2))           # replaced again before the second's was done
    checks.attach(third)
    gates.setdefault(id(second.gallery), threading.Event()).set()
    gates.setdefault(id(third.gallery), threading.Event()).set()
    assert checks.finished.wait(10)
    assert third.self_check.probes == FINGERS - 2
    assert second.self_check is first.self_check                 # the abandoned run applied nothing


def test_a_gallery_rebuilt_from_the_same_templates_keeps_its_check_without_a_run(tiny_codes):
    """A restarted kiosk (or a データ更新 that changed nothing) builds a new Gallery of the same templates: the check
    kept for them stands and nothing runs again (30-70 s of a core at N = 1,000-10,000); any change runs it."""
    from dakoku_core.fingerprint.self_check import BackgroundSelfCheck, dumps, gallery_digest, loads
    runs = []

    def run(identifier, stop):
        runs.append(identifier.gallery)
        return SelfCheck(IDENTITY, probes=len(runs), pairs=5000, look_alike=0)

    def gallery(fingers, order=1):
        return Gallery([EnrolledTemplate(f"emp{f}", 1, tiny_codes[f][k]) for f in range(fingers) for k in (0, 2)
                        ][::order])

    kept = []
    first = BackgroundSelfCheck(run, keep=kept.append, digest=gallery_digest)
    first.attach(FingerprintIdentifier(gallery(FINGERS)))
    assert first.finished.wait(10) and len(runs) == 1
    assert kept[0].gallery == gallery_digest(gallery(FINGERS), FingerprintIdentifier(gallery(1)).base_calibration)

    restarted = BackgroundSelfCheck(run, initial=loads(dumps(kept[0])), keep=kept.append,
                                    digest=gallery_digest)
    identifier = FingerprintIdentifier(gallery(FINGERS, order=-1))           # the same templates, another order
    restarted.attach(identifier)
    assert restarted.finished.wait(10)
    assert len(runs) == 1 and len(kept) == 1                                 # no run, nothing kept again
    assert identifier.self_check == kept[0] and restarted.current == kept[0]

    fewer = FingerprintIdentifier(gallery(FINGERS - 1))                       # a finger deleted: its own run
    restarted.attach(fewer)
    assert restarted.finished.wait(10) and len(runs) == 2 and fewer.self_check.probes == 2


def test_the_gallery_digest_names_whose_finger_and_how_it_is_checked(tiny_codes):
    from dakoku_core.fingerprint.identify_calibration import identify_calibration
    from dakoku_core.fingerprint.self_check import gallery_digest
    table = identify_calibration()
    base = [EnrolledTemplate("a", 1, tiny_codes[0][0]), EnrolledTemplate("b", 2, tiny_codes[1][0])]
    digest = gallery_digest(Gallery(base), table)
    assert gallery_digest(Gallery(base[::-1]), table) == digest
    for other in ([EnrolledTemplate("a", 1, tiny_codes[0][0]), EnrolledTemplate("c", 2, tiny_codes[1][0])],
                  [EnrolledTemplate("a", 1, tiny_codes[0][0]), EnrolledTemplate("b", 3, tiny_codes[1][0])],
                  [EnrolledTemplate("a", 1, tiny_codes[0][0]), EnrolledTemplate("b", 2, tiny_codes[1][1])],
                  base[:1]):
        assert gallery_digest(Gallery(other), table) != digest
    other_table = IdentifyCalibration(table.by_pairs, Calibration((0.0, 1.0), (0.0, 2.0), 2.0))
    assert gallery_digest(Gallery(base), other_table) != digest


def test_a_kept_check_reads_back_and_anything_else_is_refused():
    from dakoku_core.fingerprint.self_check import dumps, loads
    check = scripted_check(40, lambda rng: rng.exponential(SCALE_DB))
    back = loads(dumps(check))
    assert back == check
    for text in ("", "[]", "{}", '{"v": 2}', dumps(check).replace('"v": 1', '"v": 2'),
                 dumps(check).replace('"tail_slope": ', '"tail_slope": -'),
                 '{"v": 1, "raw": [0, 0], "calibrated": [0, 1], "tail_slope": 1, "probes": 1, "pairs": 1, '
                 '"look_alike": 0}',
                 '{"v": 1, "raw": [0, NaN], "calibrated": [0, 1], "tail_slope": 1, "probes": 1, "pairs": 1, '
                 '"look_alike": 0}'):
        with pytest.raises(ValueError):
            loads(text)


def test_a_large_gallery_whose_searches_score_few_fingers_still_fits_and_keeps():
    """At N = 4,000 a search scores 30 of 3,999 other fingers: over 99 % of the pairs are 0. The tail must still
    start among the scored ones, and the check must read back after a restart."""
    from dakoku_core.fingerprint.self_check import dumps, loads
    base = IdentifyCalibration((IDENTITY,) * 4, IDENTITY)
    check = scripted_check(4000, lambda rng: 20.0 + rng.exponential(SCALE_DB), subs=1, candidates=30)
    assert check.probes == 600 and check.pairs == 600 * 3999
    assert len(check.calibration.raw) >= 3 and check.calibration.raw[-1] > 20.0   # knots among the scored values
    assert loads(dumps(check)) == check
    heavy = scripted_check(4000, lambda rng: 20.0 + rng.exponential(3 * SCALE_DB), subs=1, candidates=30)
    level = Thresholds().identify(4000)
    assert heavy.raises(base, level) > check.raises(base, level) + 30.0


def test_the_check_never_turns_a_refusal_of_the_table_into_a_match(tiny_codes):
    """A heavy curve lowers a rival's score as well as the top's: the table's ambiguity must stand."""
    gallery = Gallery(EnrolledTemplate(f"emp{f}", 1, tiny_codes[f][k]) for f in range(FINGERS) for k in (0, 2))
    identifier = FingerprintIdentifier(gallery)
    table = identifier.base_calibration.finger
    t = Thresholds().identify(gallery.pattern_count())
    top, rival = float(raw_at(table, 190.0)), float(raw_at(table, t + 5.0))   # both above: ambiguous
    identifier.raw_scores = lambda probe, g: {"emp0": (top, 1), "emp1": (rival, 1)}
    with pytest.raises(KioskError) as info:
        identifier.identify(tiny_codes[0][1])
    assert info.value.key == "fingerprint_ambiguous_contact_admin"
    # this curve puts the rival 10 dB under the threshold and the top 40 dB over it
    slope = (50.0) / (top - 1.2 * rival)
    heavy = SelfCheck(Calibration((0.0, 1.2 * rival), (0.0, t - 10.0), slope), probes=12, pairs=5000, look_alike=0)
    assert heavy.calibration(rival) < t and heavy.calibration(top) >= t + 40.0
    identifier.apply_self_check(heavy)
    with pytest.raises(KioskError) as info:
        identifier.identify(tiny_codes[0][1])
    assert info.value.key == "fingerprint_ambiguous_contact_admin"


def test_the_check_waits_while_an_employee_waits_for_a_decision():
    """``Foreground``: the check's next search waits until no decision has run for ``quiet_s``, and never longer
    than ``longest_s`` (a hung decision cannot stall it for good)."""
    import time

    from dakoku_core.fingerprint.self_check import Foreground
    foreground = Foreground(quiet_s=0.2)
    assert foreground.wait_quiet() < 0.05                          # nobody waiting: at once
    entered, release = threading.Event(), threading.Event()

    def decision():
        with foreground():
            entered.set()
            release.wait(10)
    worker = threading.Thread(target=decision)
    worker.start()
    assert entered.wait(10)
    waited: list[float] = []
    checker = threading.Thread(target=lambda: waited.append(foreground.wait_quiet()))
    checker.start()
    checker.join(0.3)
    assert checker.is_alive()                                      # held while the decision runs
    ended = time.monotonic()
    release.set()
    worker.join(10)
    checker.join(10)
    assert not checker.is_alive() and time.monotonic() - ended >= 0.2    # and for quiet_s after it
    with foreground():                                              # a decision that never ends
        assert 0.25 <= foreground.wait_quiet(longest_s=0.3) < 2.0


def test_the_background_check_searches_nothing_while_a_decision_runs(tiny_codes):
    from dakoku_core.fingerprint.self_check import BackgroundSelfCheck, Foreground
    searches = [0]

    def run(identifier, stop):
        while not stop():
            searches[0] += 1
        return None

    checks = BackgroundSelfCheck(run)
    checks.foreground = Foreground(quiet_s=0.05)
    checks.attach(FingerprintIdentifier(Gallery(EnrolledTemplate(f"emp{f}", 1, tiny_codes[f][0])
                                                for f in range(FINGERS))))
    try:
        with checks.foreground():
            before = searches[0]
            threading.Event().wait(0.3)
            assert searches[0] <= before + 1                        # at most the search under way when it began
        for _ in range(1000):                                        # and on again after it (at nice 19, polled:
            if searches[0] > before + 1:                             # a loaded machine may schedule it late)
                break
            threading.Event().wait(0.01)
        assert searches[0] > before + 1
    finally:
        checks.cancel()


def test_a_failed_run_is_not_running_and_is_not_started_again_for_the_same_gallery(tiny_codes):
    from dakoku_core.fingerprint.self_check import BackgroundSelfCheck
    runs = []

    def run(identifier, stop):
        runs.append(identifier.gallery)
        raise RuntimeError("the check broke")

    checks = BackgroundSelfCheck(run)
    gallery = Gallery(EnrolledTemplate(f"emp{f}", 1, tiny_codes[f][0]) for f in range(FINGERS))
    checks.attach(FingerprintIdentifier(gallery))
    for _ in range(200):
        if not checks.running:
            break
        threading.Event().wait(0.01)
    assert not checks.running and checks.current is None
    checks.attach(FingerprintIdentifier(gallery))                 # the server attaches per request
    threading.Event().wait(0.1)
    assert runs == [gallery]


def test_a_large_gallery_reads_its_own_tail_deeper_before_it_extrapolates(monkeypatch):
    """Strangers' levels whose tail turns heavier beyond the top 1 % (1 pair in 500 from a tail ten times as
    heavy), as dry_rotated_partial's did in a 500-finger gallery (the ninth look): started at the top 1 %, the
    exponential tail promises a per-finger FMR at 150 dB some 12 dB better than the truth; started where 300 of the
    240,000 pairs are beyond it, it keeps the promise."""
    from dakoku_core.fingerprint import self_check as module

    def draw(rng):
        return rng.exponential(10 * SCALE_DB if rng.random() < 0.002 else SCALE_DB)
    level = 150.0
    per_pair = 0.002 * np.exp(-level / (10 * SCALE_DB)) + 0.998 * np.exp(-level / SCALE_DB)
    truth_db = -10 * np.log10(2 * per_pair)                 # a finger's two sub-templates: about twice the chance
    deep = scripted_check(400, draw, seed=2)
    assert deep.pairs > 200_000 and float(deep.calibration(level)) <= truth_db
    monkeypatch.setattr(module, "TAIL_POINTS", 10 ** 9)     # the tail from the top 1 %, as before
    shallow = scripted_check(400, draw, seed=2)
    assert float(shallow.calibration(level)) > truth_db + 5.0


def test_the_background_check_runs_at_the_lowest_priority(tiny_codes):
    """Linux gives a thread its own nice value: the check's is 19, the rest of the kiosk keeps its own."""
    import os

    from dakoku_core.fingerprint.self_check import BackgroundSelfCheck
    seen = []

    def run(identifier, stop):
        seen.append(os.getpriority(os.PRIO_PROCESS, threading.get_native_id()))
        return None

    mine = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    checks = BackgroundSelfCheck(run)
    checks.attach(FingerprintIdentifier(Gallery(EnrolledTemplate(f"emp{f}", 1, tiny_codes[f][0])
                                                for f in range(FINGERS))))
    assert checks.finished.wait(10)
    assert seen == [19] and os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == mine
