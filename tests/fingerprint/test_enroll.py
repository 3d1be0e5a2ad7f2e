import numpy as np
import pytest

from dakoku_core.domain.model import Employee
from dakoku_core.errors import KioskError
from dakoku_core.fingerprint import EnrolledTemplate, FingerprintTemplate, Gallery, check_duplicates, consolidate

from .conftest import FINGERS


def person(key: str, code: str, last: str, first: str) -> Employee:
    return Employee(key=key, code=code, last_name=last, first_name=first, department_code="D1",
                    employment_type_code="FT")


EMPLOYEES = {"e0": person("e0", "0100", "山田", "太郎"), "e1": person("e1", "0101", "佐藤", "花子")}


def test_consolidates_three_captures_with_feedback(tiny_templates):
    enrollment = consolidate(tiny_templates[0])
    assert 2 <= len(enrollment.templates) <= 3
    assert len(enrollment.feedback) == 3 and all(f.usable for f in enrollment.feedback)
    assert all(f.minutiae > 0 and 0 <= f.quality <= 100 for f in enrollment.feedback)


def test_unusable_captures_fail_enrolment(tiny_templates):
    empty = FingerprintTemplate(np.zeros((0, 5)), 320, 384)
    few = FingerprintTemplate(tiny_templates[0][0].minutiae[:5], 320, 384)
    with pytest.raises(KioskError) as info:
        consolidate([empty, few, tiny_templates[0][0]])
    assert info.value.key == "enrollment_failed"


def test_captures_of_different_fingers_fail_enrolment(tiny_templates):
    with pytest.raises(KioskError) as info:
        consolidate([tiny_templates[0][0], tiny_templates[1][0], tiny_templates[2][0]])
    assert info.value.key == "enrollment_failed"


def test_one_stray_capture_is_flagged_but_enrolment_succeeds(tiny_templates):
    captures = [tiny_templates[0][0], tiny_templates[0][1], tiny_templates[4][0], tiny_templates[0][2]]
    enrollment = consolidate(captures)
    assert enrollment.feedback[2].reason == "does_not_match_others" and not enrollment.feedback[2].usable


def test_duplicate_check(tiny_templates, tiny_codes):
    company = Gallery([EnrolledTemplate("e0", 1, tiny_codes[0][0])] +
                      [EnrolledTemplate(f"x{f}", 1, tiny_codes[f][0]) for f in range(2, FINGERS)])
    enrollment = consolidate(tiny_templates[0][1:])
    with pytest.raises(KioskError) as info:
        check_duplicates(enrollment, "e1", company, EMPLOYEES)
    assert info.value.key == "credential_duplicate"
    with pytest.raises(KioskError) as info:
        check_duplicates(enrollment, "e0", company, EMPLOYEES)
    assert info.value.key == "credential_registered_to_employee"
    assert info.value.context == {"name": "山田 太郎", "code": "0100"}
    assert "山田 太郎" in info.value.message("ja") and "0100" in info.value.message("ja")
    fresh = consolidate(tiny_templates[1])
    check_duplicates(fresh, "e1", company, EMPLOYEES)      # a new finger passes


def test_a_strangers_finger_that_reaches_another_once_is_no_duplicate_but_the_same_finger_again_is():
    """Real prints of a kind the 1:1 table was not fitted on (held-out moist_midsize, 20 fingers): enrolled one
    after the other from the kiosk's 4 captures, 7 new fingers reach another employee's with one pairwise comparison
    over the duplicate threshold, which until session 11 refused them as registered already; none is refused now.
    Each finger enrolled again from its 4 other captures (none shared) is still found: as the same employee's
    finger, or as another's when someone else tries to enrol it. (From 3 captures, session 12's rule missed one of
    the 20: its small moist templates reach the identify path's threshold of 38 dB with 31-35.)"""
    from dakoku_core.fingerprint.enroll import duplicate_scores
    from dakoku_core.fingerprint.synth.kinds import kind_templates

    rows = kind_templates("moist_midsize", "reporting", 20, impressions=8)
    gallery, reached_once = Gallery(()), 0
    for f, row in enumerate(rows):
        enrolment = consolidate(row[:4])
        reached_once += bool(duplicate_scores(enrolment, gallery))
        check_duplicates(enrolment, f"e{f}", gallery, {})              # a new employee's finger: never refused
        gallery = gallery.changed((), [EnrolledTemplate(f"e{f}", 1, code) for code in enrolment.codes])
    assert reached_once >= 5
    for f, row in enumerate(rows):
        again = consolidate(row[4:8])
        with pytest.raises(KioskError) as own:
            check_duplicates(again, f"e{f}", gallery, {})
        with pytest.raises(KioskError) as other:
            check_duplicates(again, "someone else", gallery, {})
        assert (own.value.key, other.value.key) == ("credential_registered_to_employee", "credential_duplicate")
        assert own.value.context == {"name": "", "code": f"e{f}"}


class ScriptedMatcher:
    """Pairwise scores set by the test (by the codes' minutiae positions: a gallery entry decompresses a new copy of
    its code each time, 0 otherwise): the duplicate rule without matching."""

    def __init__(self):
        self.table: dict[tuple[bytes, bytes], float] = {}

    def set(self, probe, entry, score: float) -> None:
        self.table[(probe.xy.tobytes(), entry.code.xy.tobytes())] = score

    def score(self, a, b) -> float:
        return self.table.get((a.xy.tobytes(), b.xy.tobytes()), 0.0)


@pytest.fixture()
def scripted(tiny_codes):
    """A new enrolment of three sub-templates (finger 0's captures) and a gallery of finger A (e0, two sub-templates)
    and finger B (e1, one), both of finger 0's captures so that the identify path reaches them, and finger C (e0,
    another finger's capture) that it does not. The pairwise scores are the test's."""
    from dakoku_core.fingerprint.enroll import Enrollment
    new = Enrollment((), tuple(tiny_codes[0]), ())
    a1, a2 = EnrolledTemplate("e0", 1, tiny_codes[0][0]), EnrolledTemplate("e0", 1, tiny_codes[0][1])
    b = EnrolledTemplate("e1", 2, tiny_codes[0][2])
    c = EnrolledTemplate("e0", 3, tiny_codes[3][0])
    return new, Gallery([a1, a2, b, c]), (a1, a2, b, c), ScriptedMatcher()


def test_sub_templates_split_between_two_fingers_are_no_duplicate(scripted):
    new, gallery, (a1, _a2, b, _c), matcher = scripted
    p1, p2, p3 = new.codes
    matcher.set(p1, a1, 100.0)
    matcher.set(p2, b, 100.0)                    # one reaches A, one reaches B: no finger reached by two
    check_duplicates(new, "e2", gallery, EMPLOYEES, matcher)
    matcher.set(p3, a1, 100.0)                   # now two reach A (and the identify path does too)
    with pytest.raises(KioskError) as info:
        check_duplicates(new, "e2", gallery, EMPLOYEES, matcher)
    assert info.value.key == "credential_duplicate"


def test_one_sub_template_reaching_two_of_a_fingers_sub_templates_counts_once(scripted):
    from dakoku_core.fingerprint.enroll import duplicate_scores
    new, gallery, (a1, a2, _b, _c), matcher = scripted
    p1 = new.codes[0]
    matcher.set(p1, a1, 90.0)
    matcher.set(p1, a2, 100.0)
    assert duplicate_scores(new, gallery, matcher) == {("e0", 1): (1, 100.0)}
    check_duplicates(new, "e2", gallery, EMPLOYEES, matcher)     # one of three sub-templates: no duplicate


def test_a_finger_only_the_pairwise_table_names_is_no_duplicate(scripted):
    # Every capture reaches C on the pairwise scale (as another sensor's prints often do: § False duplicates), but
    # the identify path, fitted on the worst of several kinds, does not take them for C: a new finger, enrolled.
    from dakoku_core.fingerprint.enroll import duplicate_fingers, duplicate_scores
    new, gallery, (_a1, _a2, _b, c), matcher = scripted
    for p in new.codes:
        matcher.set(p, c, 100.0)
    assert duplicate_scores(new, gallery, matcher)[("e0", 3)][0] == 3
    assert duplicate_fingers(new, gallery, matcher) == []
    check_duplicates(new, "e2", gallery, EMPLOYEES, matcher)


def test_a_registration_of_one_template_needs_that_one(scripted):
    from dakoku_core.fingerprint.enroll import Enrollment
    new, gallery, (a1, _a2, _b, _c), matcher = scripted
    one = Enrollment((), new.codes[:1], ())
    check_duplicates(one, "e2", gallery, EMPLOYEES, matcher)
    matcher.set(new.codes[0], a1, 100.0)
    with pytest.raises(KioskError) as info:
        check_duplicates(one, "e2", gallery, EMPLOYEES, matcher)
    assert info.value.key == "credential_duplicate"


@pytest.mark.parametrize("own_score, key", [(110.0, "credential_registered_to_employee"),
                                            (90.0, "credential_duplicate")])
def test_the_strongest_of_two_duplicated_fingers_decides(scripted, own_score, key):
    new, gallery, (a1, _a2, b, _c), matcher = scripted
    for p in new.codes:
        matcher.set(p, a1, 100.0)                # e0's finger, another employee's
        matcher.set(p, b, own_score)             # e1's own other finger
    with pytest.raises(KioskError) as info:
        check_duplicates(new, "e1", gallery, EMPLOYEES, matcher)
    assert info.value.key == key
    if key == "credential_registered_to_employee":
        assert info.value.context == {"name": EMPLOYEES["e1"].display_name, "code": "0101"}
