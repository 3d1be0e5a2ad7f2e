"""No tofu: every character the kiosk can show is in the vendored BIZ UD fonts."""
from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from pathlib import Path

import pytest
from fontTools import ttLib

FONTS = Path(__file__).resolve().parents[2] / "fonts"


@lru_cache(maxsize=None)
def cmap(name: str) -> frozenset[int]:
    with ttLib.TTFont(FONTS / name, lazy=True) as font:
        return frozenset(font.getBestCmap())


def shown_texts() -> list[str]:
    data = resources.files("dakoku_core").joinpath("data")
    texts = []
    for value in json.loads(data.joinpath("strings.json").read_text("utf-8")).values():
        texts += [value["ja"], value["en"]]
    for entry in json.loads(data.joinpath("catalogue.json").read_text("utf-8"))["entries"]:
        for table in ("messages", "causes", "remedies"):
            for text in entry[table].values():
                texts += [text["ja"], text["en"]]
    from dakoku_core.demo import demo_employees
    from datetime import date

    texts += [e.display_name for e in demo_employees(date(2026, 1, 1))]
    texts += ["0123456789:●…·"]
    return texts


@pytest.mark.parametrize("font", ["BIZUDPGothic-Regular.ttf", "BIZUDPGothic-Bold.ttf", "BIZUDGothic-Bold.ttf"])
def test_every_shown_character_has_a_glyph(font):
    covered = cmap(font)
    missing = sorted({c for text in shown_texts() for c in text if c not in "\n\t" and ord(c) not in covered})
    assert not missing, f"{font} lacks {missing}"


def test_the_check_can_fail():
    assert 0x232B not in cmap("BIZUDPGothic-Regular.ttf")   # ⌫ (ERASE TO THE LEFT) would be tofu
