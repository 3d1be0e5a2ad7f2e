"""The one JSON parser of request bodies: strict UTF-8, a nesting limit, no lone surrogates and no NUL in
strings (issue 10, item 2). Anything it refuses raises :class:`BadJson` with a short reason word; callers turn
it into a 400 with a catalogue key, never a 500.

Why each limit: Python's ``json`` recurses per nesting level, so 1,000 levels end in ``RecursionError`` (and
jsonschema recurses again); a lone surrogate (``"\\ud800"``) parses into a ``str`` that cannot be encoded to
UTF-8, and PostgreSQL refuses NUL in text, so either would fail later in the database driver or the response.
Other control characters are left to the schemas, so that one punch with, say, ``"<uuid>\\n"`` is refused
alone (its pattern and length) rather than the whole batch.
"""
from __future__ import annotations

import json
import re

MAX_DEPTH = 32
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}]")
_BAD_CHARS = re.compile(r"[\x00\ud800-\udfff]")


class BadJson(ValueError):
    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def nesting_depth(text: str) -> int:
    """The deepest nesting of arrays/objects in ``text`` (strings skipped), without recursion."""
    brackets = _NOT_BRACKET.sub("", _STRING.sub("", text))
    depth = deepest = 0
    for char in brackets:
        if char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest


def _strings(value: object):
    """Every string in ``value`` (keys included), iteratively."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            yield item
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def loads(raw: bytes, *, max_depth: int = MAX_DEPTH) -> object:
    """Parse a request body; :class:`BadJson` for anything but strict, shallow, printable JSON."""
    try:
        text = raw.decode("utf-8", errors="strict")
    except UnicodeDecodeError:
        raise BadJson("invalid_utf8") from None
    if nesting_depth(text) > max_depth:
        raise BadJson("json_too_deep")
    try:
        value = json.loads(text, parse_constant=_no_constant)
    except (ValueError, RecursionError):
        raise BadJson("invalid_json") from None
    if "\\" in text:              # only escapes can smuggle surrogates or NUL into strings
        for string in _strings(value):
            if _BAD_CHARS.search(string):
                raise BadJson("invalid_characters")
    return value


def _no_constant(name: str) -> object:
    raise ValueError(f"{name} is not JSON")
