"""A synthetic print through libfprint's virtual_image -> MindtctExtractor -> Matcher, as the kiosk will do it."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from dakoku_core.errors import Situation
from dakoku_core.fingerprint import Matcher
from dakoku_core.fingerprint.enroll import consolidate
from dakoku_core.fingerprint.extractors import MindtctExtractor
from dakoku_core.fingerprint.policy import Thresholds
from kiosk.fingerprint.prompts import FingerPrompt
from dakoku_core.fingerprint.synth import TEST, impressions_of

pytestmark = pytest.mark.timeout(60)

GENUINE, IMPOSTOR = TEST.start + 41, TEST.start + 42
ENROL_IMPRESSIONS, PROBE_IMPRESSION = (0, 1, 2, 3), 4


def test_virtual_image_capture_to_verify(virtual_image):
    sensor, client, rec = virtual_image
    extractor, matcher, verify = MindtctExtractor(), Matcher(), Thresholds().verify
    genuine = impressions_of(GENUINE, PROBE_IMPRESSION + 1)
    impostor = impressions_of(IMPOSTOR, 1)[0]
    enrolment = consolidate([extractor.extract(genuine[i]) for i in ENROL_IMPRESSIONS], matcher)

    with ThreadPoolExecutor(max_workers=1) as pool:
        scores = []
        for nth, image in enumerate((genuine[PROBE_IMPRESSION], impostor), start=1):
            future = pool.submit(sensor.capture, 10.0, None, Situation.PUNCH)
            rec.wait_prompt(FingerPrompt.PLACE_FINGER, nth)
            client.image(image)
            capture = future.result(10)
            probe = matcher.encode(capture.template(extractor))
            scores.append(max(matcher.score(probe, code) for code in enrolment.codes))
    genuine_score, impostor_score = scores
    print(f"genuine {genuine_score:.1f}, impostor {impostor_score:.1f}, verify threshold {verify}")
    assert genuine_score >= verify, scores
    assert impostor_score < verify, scores
