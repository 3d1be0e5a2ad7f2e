"""1:1 verify (the 2-factor mode) on prints from a small sensor, a kind the pairwise 1:1 table was never fitted on:
a stranger who types another employee's code and places their own finger is refused, and the employee is not.

Until session 12 verify took the best pairwise score at 40 (0.01 % promised); on such prints that let about one
stranger's claim in six through (benchmarks/fingerprint_verify.py: 16.4 % of 28,140 claims on REPORTING). It now
decides on the identify path's per-finger scale, fitted on the worst of several kinds."""
from __future__ import annotations

import pytest

from dakoku_core.errors import KioskError
from dakoku_core.fingerprint import EnrolledTemplate, FingerprintIdentifier, Gallery, Matcher
from dakoku_core.fingerprint.enroll import consolidate

ENROLLED = 10


@pytest.fixture(scope="module")
def small_sensor():
    from dakoku_core.fingerprint.synth.kinds import kind_templates
    rows = kind_templates("small_sensor", "reporting", 20)
    matcher = Matcher()
    entries = []
    for f, row in enumerate(rows[:ENROLLED]):
        try:
            entries += [EnrolledTemplate(f"e{f}", 1, code) for code in consolidate(row[:4], matcher).codes]
        except KioskError as exc:                   # a small window may not give two agreeing captures
            assert exc.key == "enrollment_failed"
    probes = [[matcher.encode(t) for t in row] for row in rows]
    return FingerprintIdentifier(Gallery(entries), matcher), probes


def test_strangers_claiming_an_employee_are_refused_on_small_sensor_prints(small_sensor):
    identifier, probes = small_sensor
    keys = sorted(identifier.gallery.employees())
    assert len(keys) >= ENROLLED - 2
    pairwise = accepted = 0
    for row in probes[ENROLLED:]:                                   # fingers nobody enrolled
        for probe in row:
            for key in keys:
                best = max(identifier.matcher.score(probe, e.code) for e in identifier.gallery.of_employee(key))
                pairwise += best >= identifier.thresholds.verify       # the rule until session 12
                try:
                    identifier.verify(probe, key)
                    accepted += 1
                except KioskError as exc:
                    assert (exc.key, exc.cause_letter) == ("auth_failed", "A")
    assert len(probes[ENROLLED:]) * len(probes[0]) * len(keys) >= 480
    assert pairwise >= 25          # these prints do fool the pairwise table (about 16 % of claims)...
    assert accepted <= 1           # ...and not the rule in force (0.01 % promised: 0.06 expected of 600)


def test_employees_are_still_verified_on_small_sensor_prints(small_sensor):
    identifier, probes = small_sensor
    verified = 0
    keys = identifier.gallery.employees()
    for f, row in enumerate(probes[:ENROLLED]):
        if f"e{f}" not in keys:
            continue
        for probe in row[4:]:                                       # captures never enrolled
            try:
                match = identifier.verify(probe, f"e{f}")
                verified += match.employee_key == f"e{f}"
            except KioskError as exc:
                assert (exc.key, exc.cause_letter) == ("auth_failed", "A")
    assert verified >= 2 * len(keys) - 4    # of 2 a finger (REPORTING, 140 claims: 8 % refused; a retry)
