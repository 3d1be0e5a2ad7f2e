"""A tiny synthetic set (TEST seed range) shared by the fingerprint tests: 6 fingers x 3 impressions."""
from __future__ import annotations

from functools import lru_cache

import numpy as np
import pytest

from kiosk.adapters.ledger.fingerprint_store import SqliteFingerprintStore
from dakoku_core.fingerprint import FingerprintTemplate, Matcher, StaticKeyProvider, TemplateCipher
from dakoku_core.fingerprint.extractors import MindtctExtractor
from kiosk.fingerprint.simulated_sensor import SimulatedSensor
from dakoku_core.fingerprint.synth.dataset import TEST, impressions_of
from kiosk.services.fingerprint import FingerprintService

from .fake_server import FakeFingerprintServer

FINGERS, IMPRESSIONS = 6, 3


@pytest.fixture(scope="session")
def extractor() -> MindtctExtractor:
    return MindtctExtractor()


@pytest.fixture(scope="session")
def matcher() -> Matcher:
    return Matcher()


@pytest.fixture(scope="session")
def tiny_images() -> np.ndarray:
    return np.stack([impressions_of(seed, IMPRESSIONS) for seed in TEST.seeds(FINGERS)])


@pytest.fixture(scope="session")
def tiny_templates(tiny_images, extractor) -> list[list[FingerprintTemplate]]:
    return [[extractor.extract(image) for image in row] for row in tiny_images]


@pytest.fixture(scope="session")
def tiny_codes(tiny_templates, matcher):
    return [[matcher.encode(t) for t in row] for row in tiny_templates]


def rotated(template: FingerprintTemplate, degrees: float, dx: float = 0.0, dy: float = 0.0) -> FingerprintTemplate:
    """The same minutiae rotated about the image centre (as seen on screen) and shifted."""
    a = np.radians(degrees)
    cx, cy = template.width / 2, template.height / 2
    x, y = template.xy[:, 0] - cx, template.xy[:, 1] - cy
    # Counter-clockwise on screen (y down): x' = x cos + y sin, y' = -x sin + y cos.
    nx = x * np.cos(a) + y * np.sin(a) + cx + dx
    ny = -x * np.sin(a) + y * np.cos(a) + cy + dy
    return FingerprintTemplate.from_columns(nx, ny, template.angles + a, template.qualities, template.kinds,
                                            width=template.width, height=template.height)


# -- the kiosk's FingerprintService on a real ledger, the simulated sensor and a fake server ---------------------
_SENSOR = SimulatedSensor()   # only for its synthetic impressions (masters are cached per process)


@pytest.fixture(scope="module")
def templates(extractor):
    """``templates(finger, first=100, count=4)``: extracted impressions of the simulated sensor's finger."""
    @lru_cache(maxsize=None)
    def of(finger: int, first: int = 100, count: int = 4):
        return tuple(extractor.extract(_SENSOR.impression(finger, j)) for j in range(first, first + count))
    return of


@pytest.fixture
def keys():
    return StaticKeyProvider.generate()


@pytest.fixture
def server():
    return FakeFingerprintServer()


@pytest.fixture
def fp(demo_kiosk, ledger_db, extractor, keys, server):
    master, _punches, punch_service = demo_kiosk
    sensor = SimulatedSensor()
    sensor.open()
    store = SqliteFingerprintStore(ledger_db, TemplateCipher(keys))
    yield FingerprintService(sensor, extractor, store, master, punch_service, capture_timeout=5.0,
                             client=lambda: server, is_online=lambda: server.online, refresh=server.refresh)
    sensor.close()
