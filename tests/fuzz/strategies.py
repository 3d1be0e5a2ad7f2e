"""Hypothesis strategies shared by the fuzz targets: JSON values, deep nesting, texts with odd code points."""
from __future__ import annotations

import json

from hypothesis import strategies as st

ODD_TEXT = st.text(st.characters(codec="utf-8") | st.sampled_from("\x00\ud800\udfff\ufeff\u202e;=%/:@#?"),
                   max_size=60)
SCALARS = (st.none() | st.booleans() | st.integers(-2**70, 2**70) | st.floats(allow_nan=True) | ODD_TEXT)
JSON = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=5) | st.dictionaries(ODD_TEXT, inner, max_size=5),
                    max_leaves=25)


def deep(depth: int, opener: str = "[") -> str:
    closer = {"[": "]", "{": "}"}[opener]
    if opener == "{":
        return '{"a":' * depth + "1" + closer * depth
    return opener * depth + closer * depth


DEEP_JSON_TEXT = st.sampled_from([deep(2000), deep(100_000), deep(2000, "{"), deep(100_000, "{")])


def json_text(value) -> str:
    return json.dumps(value, ensure_ascii=False, allow_nan=True)


@st.composite
def replaced(draw, valid: dict, values=JSON) -> dict:
    """``valid`` with some keys dropped, some values replaced by random JSON and some random keys added."""
    out = dict(valid)
    keys = draw(st.lists(st.sampled_from(sorted(valid)), max_size=len(valid), unique=True)) if valid else []
    for key in keys:
        if draw(st.booleans()):
            out.pop(key)
        else:
            out[key] = draw(values)
    out.update(draw(st.dictionaries(ODD_TEXT, values, max_size=2)))
    return out


@st.composite
def mutated_bytes(draw, valid: bytes) -> bytes:
    """``valid`` cut, with bytes flipped, inserted or dropped."""
    data = bytearray(valid)
    for _ in range(draw(st.integers(0, 6))):
        if not data:
            break
        at = draw(st.integers(0, len(data) - 1))
        action = draw(st.sampled_from(["flip", "drop", "insert", "cut"]))
        if action == "flip":
            data[at] = draw(st.integers(0, 255))
        elif action == "drop":
            del data[at]
        elif action == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=8))
        else:
            del data[at:]
    return bytes(data)
