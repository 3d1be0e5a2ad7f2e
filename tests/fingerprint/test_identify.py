import pytest

from dakoku_core.errors import KioskError
from dakoku_core.fingerprint import EnrolledTemplate, FingerprintIdentifier, Gallery
from dakoku_core.fingerprint.calibration import Calibration
from dakoku_core.fingerprint.policy import Thresholds
from dakoku_core.fingerprint.self_check import SelfCheck

from .conftest import FINGERS


def employee(f: int) -> str:
    return f"emp{f}"


@pytest.fixture(scope="module")
def gallery(tiny_codes) -> Gallery:
    # As the kiosk stores a finger: at least two sub-templates (consolidate keeps 2-3 agreeing captures); the
    # identify score fuses them, so one lone template scores lower on purpose.
    return Gallery(EnrolledTemplate(employee(f), 1, tiny_codes[f][k]) for f in range(FINGERS) for k in (0, 2))


def test_identifies_each_enrolled_finger_from_another_impression(gallery, tiny_codes):
    identifier = FingerprintIdentifier(gallery)
    hits = 0
    for f in range(FINGERS):
        try:
            hits += identifier.identify(tiny_codes[f][1]).employee_key == employee(f)
        except KioskError as exc:
            assert exc.key == "auth_failed"
    assert hits >= FINGERS - 1


def test_a_finger_that_is_not_enrolled_fails_with_cause_a(tiny_codes):
    gallery = Gallery(EnrolledTemplate(employee(f), 1, tiny_codes[f][k]) for f in range(1, FINGERS) for k in (0, 2))
    with pytest.raises(KioskError) as info:
        FingerprintIdentifier(gallery).identify(tiny_codes[0][1])
    assert info.value.key == "auth_failed" and info.value.cause_letter == "A"


def test_only_the_candidate_employees_are_searched(gallery, tiny_codes):
    identifier = FingerprintIdentifier(gallery)
    others = [employee(f) for f in range(1, FINGERS)]
    with pytest.raises(KioskError) as info:
        identifier.identify(tiny_codes[0][1], others)
    assert info.value.key == "auth_failed"
    assert identifier.identify(tiny_codes[0][1], [employee(0)] + others).employee_key == employee(0)


@pytest.mark.parametrize("two_factor, key", [(True, "fingerprint_ambiguous_enter_id"),
                                             (False, "fingerprint_ambiguous_contact_admin")])
def test_two_employees_above_threshold_is_ambiguous(tiny_codes, two_factor, key):
    # The same finger enrolled under two employees (the situation the duplicate check prevents).
    entries = [EnrolledTemplate("alice", 1, tiny_codes[0][0]), EnrolledTemplate("bob", 2, tiny_codes[0][2])]
    entries += [EnrolledTemplate(employee(f), 1, tiny_codes[f][0]) for f in range(1, FINGERS)]
    with pytest.raises(KioskError) as info:
        FingerprintIdentifier(Gallery(entries)).identify(tiny_codes[0][1], two_factor=two_factor)
    assert info.value.key == key


def test_same_employee_twice_is_not_ambiguous(tiny_codes):
    entries = [EnrolledTemplate("alice", 1, tiny_codes[0][0]), EnrolledTemplate("alice", 1, tiny_codes[0][2])]
    assert FingerprintIdentifier(Gallery(entries)).identify(tiny_codes[0][1]).employee_key == "alice"


def test_more_patterns_than_the_department_limit(gallery, tiny_codes):
    identifier = FingerprintIdentifier(gallery, pattern_limit=FINGERS - 1)
    with pytest.raises(KioskError) as info:
        identifier.identify(tiny_codes[0][1])
    assert info.value.key == "too_many_patterns"
    # Restricted to fewer candidates the department is within its limit again.
    assert identifier.identify(tiny_codes[0][1], [employee(0), employee(1)]).employee_key == employee(0)


def test_verify_one_to_one(gallery, tiny_codes):
    identifier = FingerprintIdentifier(gallery)
    match = identifier.verify(tiny_codes[3][1], employee(3))
    assert (match.employee_key, match.finger) == (employee(3), 1)
    # on the identify path's per-finger scale: the score is the calibrated level of the claimed employee's finger
    level = identifier.raw_scores(tiny_codes[3][1], gallery.restricted_to([employee(3)]))[employee(3)][0]
    assert match.score == pytest.approx(identifier.calibration(level))
    assert match.score >= match.threshold == identifier.thresholds.verify_for(1) == identifier.thresholds.verify
    with pytest.raises(KioskError) as info:
        identifier.verify(tiny_codes[3][1], employee(4))
    assert info.value.key == "auth_failed" and info.value.cause_letter == "A"


def test_verify_asks_more_of_an_employee_with_more_fingers(tiny_codes):
    # A stranger's claim meets each of the employee's fingers: 10 log10(fingers) more keeps 0.01 % per claim.
    t = Thresholds()
    assert t.verify_for(0) == t.verify_for(1) == t.verify == 40.0
    assert t.verify_for(10) == pytest.approx(50.0)
    one = Gallery([EnrolledTemplate("alice", 1, tiny_codes[0][0]), EnrolledTemplate("alice", 1, tiny_codes[0][2])])
    many = one.changed((), [EnrolledTemplate("alice", f + 1, tiny_codes[f][k])
                            for f in range(1, FINGERS) for k in (0, 2)])
    assert FingerprintIdentifier(one).verify(tiny_codes[0][1], "alice").threshold == pytest.approx(40.0)
    match = FingerprintIdentifier(many).verify(tiny_codes[0][1], "alice")
    assert (match.finger, match.threshold) == (1, pytest.approx(t.verify_for(FINGERS)))
    assert match.threshold > 47.0


def test_verify_of_an_employee_without_fingers_is_refused(gallery, tiny_codes):
    with pytest.raises(KioskError) as info:
        FingerprintIdentifier(gallery).verify(tiny_codes[3][1], "nobody")
    assert info.value.key == "auth_failed" and info.value.cause_letter == "A"


def test_verify_decides_with_the_gallerys_self_check(gallery, tiny_codes):
    identifier = FingerprintIdentifier(gallery)
    assert identifier.verify(tiny_codes[3][1], employee(3)).employee_key == employee(3)
    level = identifier.raw_scores(tiny_codes[3][1], gallery.restricted_to([employee(3)]))[employee(3)][0]
    # this gallery's strangers (as if) reach twice the genuine level at FMR 1 %: the claim is not trusted
    heavy = SelfCheck(Calibration((0.0, 2 * level), (0.0, 20.0), 20.0 / (2 * level)), probes=12, pairs=5000,
                      look_alike=0)
    identifier.apply_self_check(heavy)
    with pytest.raises(KioskError) as info:
        identifier.verify(tiny_codes[3][1], employee(3))
    assert info.value.key == "auth_failed" and info.value.cause_letter == "A"
    identifier.apply_self_check(None)
    assert identifier.verify(tiny_codes[3][1], employee(3)).employee_key == employee(3)


def test_identify_threshold_grows_with_gallery_size():
    from dakoku_core.fingerprint import Thresholds
    t = Thresholds()
    assert t.identify(1) == t.identify_base == 30.0          # FPIR 0.1 % per search
    assert t.identify(10_000) == pytest.approx(t.identify(1_000) + 10)
    assert t.duplicate(1_000) == pytest.approx(t.duplicate_base + 30)   # pairwise scale, per template


def test_a_restricted_gallery_reuses_the_same_prefilter_rows(gallery, tiny_codes):
    keys = [employee(1), employee(3)]
    restricted = gallery.restricted_to(keys)
    rebuilt = Gallery(e for e in gallery.entries if e.employee_key in keys)
    assert [e.employee_key for e in restricted.entries] == [k for k in keys for _ in (0, 2)]
    assert (restricted._stack == rebuilt._stack).all()
    assert gallery.restricted_to(gallery.employees()) is gallery


def test_the_one_employee_above_the_threshold_must_also_beat_the_next_by_the_margin(tiny_codes):
    """The same finger under alice (two captures) and bob (one of them, so lower): with the threshold between their
    scores the old rule named alice; now her score must also be ``identify_margin`` above bob's, or the search fails
    with cause A (a stranger whose every score is lifted alike by an unfamiliar kind of print does not pass
    either)."""
    from math import log10

    from dakoku_core.fingerprint.policy import Thresholds
    entries = [EnrolledTemplate("alice", 1, tiny_codes[0][0]), EnrolledTemplate("alice", 1, tiny_codes[0][2]),
               EnrolledTemplate("bob", 1, tiny_codes[0][2])]
    entries += [EnrolledTemplate(employee(f), 1, tiny_codes[f][0]) for f in range(1, FINGERS)]
    gallery = Gallery(entries)
    probe = tiny_codes[0][1]
    scores = FingerprintIdentifier(gallery).scores(probe, gallery)
    alice, bob = scores["alice"][0], scores["bob"][0]
    assert alice > bob > 0
    base = (alice + bob) / 2 - 10 * log10(gallery.pattern_count())     # bob below the threshold, alice above
    gap = alice - bob
    strict, loose = (Thresholds(identify_base=base, identify_margin=gap + d) for d in (0.5, -0.5))
    with pytest.raises(KioskError) as info:
        FingerprintIdentifier(gallery, thresholds=strict).identify(probe)
    assert info.value.key == "auth_failed" and info.value.cause_letter == "A" and "margin" in info.value.detail
    match = FingerprintIdentifier(gallery, thresholds=loose).identify(probe)
    assert match.employee_key == "alice"
    assert Thresholds().identify_margin == 30.0
