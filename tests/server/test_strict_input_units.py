"""Fast unit tests of the server's input limits (no server): the strict JSON parser and the stamp range."""
from __future__ import annotations

import json
from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

import pytest

from dakoku_server import strict_json
from dakoku_server.punch_times import naive_utc, out_of_range, parse_stamp

TOKYO = ZoneInfo("Asia/Tokyo")
NOW = datetime(2026, 12, 2, 3, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize("text, depth", [
    ('{}', 1), ('[[[]]]', 3), ('{"a": "[[[[[["}', 1), ('{"a": "\\"[[[["}', 1), ('{"a": "\\\\", "b": [[1]]}', 3),
    ('"x"', 0), ('[{"a": [{"b": []}]}]', 5),
])
def test_nesting_depth_skips_strings(text, depth):
    assert strict_json.nesting_depth(text) == depth


def test_depth_limit_is_checked_before_parsing():
    ok = ("[" * strict_json.MAX_DEPTH + "]" * strict_json.MAX_DEPTH).encode()
    assert strict_json.loads(ok) is not None
    for n in (strict_json.MAX_DEPTH + 1, 1000, 100_000):
        with pytest.raises(strict_json.BadJson) as info:
            strict_json.loads(("[" * n + "]" * n).encode())
        assert info.value.reason == "json_too_deep"


@pytest.mark.parametrize("raw, reason", [
    (b'"\\ud800"', "invalid_characters"), (b'{"\\udc00": 1}', "invalid_characters"),
    (b'["a\\u0000"]', "invalid_characters"), (b'"\xed\xa0\x80"', "invalid_utf8"), (b'\xff', "invalid_utf8"),
    (b'[NaN]', "invalid_json"), (b'[Infinity]', "invalid_json"), (b'{"a": 1,}', "invalid_json"),
    (b'"raw\ncontrol"', "invalid_json"),
])
def test_refused_bodies(raw, reason):
    with pytest.raises(strict_json.BadJson) as info:
        strict_json.loads(raw)
    assert info.value.reason == reason


def test_ordinary_bodies_parse_as_json_does():
    body = {"punches": [{"uuid": "0" * 8, "name": "山田 😀", "escaped": "tab\there \"q\" \\ /"}]}
    for raw in (json.dumps(body).encode(), json.dumps(body, ensure_ascii=False).encode()):
        assert strict_json.loads(raw) == body


@pytest.mark.parametrize("text, key", [
    ("9999-12-31T23:59:59+09:00", "auth_failed"), ("9999-12-31T23:00:00-12:00", "auth_failed"),
    ("0001-01-01T00:00:00+14:00", "before_hire_date"), ("0001-01-01T00:00:00+00:00", "before_hire_date"),
    ("2026-12-02T12:06:00+09:00", "auth_failed"),                  # 6 min ahead of NOW: beyond 300 s
    ("2024-03-30T23:59:59+09:00", "before_hire_date"),             # before the eve of 2024-04-01
])
def test_stamps_outside_the_range_are_refused(text, key):
    error = out_of_range(parse_stamp(text), date(2024, 4, 1), TOKYO, NOW, 300)
    assert error is not None and error.key == key
    assert isinstance(naive_utc(parse_stamp(text)), datetime)     # storable, clamped when it must be


@pytest.mark.parametrize("text", ["2026-12-02T12:04:59+09:00", "2024-03-31T00:00:00+09:00",
                                  "2025-06-01T09:00:00+09:00"])
def test_stamps_inside_the_range_are_fine(text):
    assert out_of_range(parse_stamp(text), date(2024, 4, 1), TOKYO, NOW, 300) is None


def test_no_hire_date_means_from_1970():
    assert out_of_range(parse_stamp("1970-01-03T00:00:00+00:00"), None, TOKYO, NOW, 300) is None
    assert out_of_range(parse_stamp("1969-12-31T00:00:00+00:00"), None, TOKYO, NOW, 300).key == "before_hire_date"
    with pytest.raises(ValueError):
        parse_stamp("2026-12-02T12:00:00")                          # no offset
