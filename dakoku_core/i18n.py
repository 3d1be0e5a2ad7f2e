"""One translation mechanism: Japanese first, English second.

Every user-facing text is a :class:`Text` (both languages side by side). UI strings live in
``dakoku_core/data/strings.json`` keyed by a stable name; the error catalogue uses the same :class:`Text`.
The current language is process-wide and switched with :func:`set_language`.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

LANGUAGES = ("ja", "en")
_language = "ja"


@dataclass(frozen=True)
class Text:
    ja: str
    en: str

    def get(self, language: str | None = None) -> str:
        lang = language or _language
        return self.en if lang == "en" else self.ja

    def format(self, language: str | None = None, **context: object) -> str:
        template = self.get(language)
        return template.format_map(_Missing(context)) if context or "{" in template else template

    @classmethod
    def from_data(cls, data: object) -> "Text":
        if isinstance(data, str):
            return cls(data, data)
        if not isinstance(data, dict) or "ja" not in data or "en" not in data:
            raise ValueError(f"a text needs 'ja' and 'en': {data!r}")
        return cls(str(data["ja"]), str(data["en"]))


class _Missing(dict):
    """format_map helper: an unknown placeholder stays visible instead of raising."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def set_language(language: str) -> None:
    global _language
    if language not in LANGUAGES:
        raise ValueError(f"unknown language {language!r}; expected one of {LANGUAGES}")
    _language = language


def language() -> str:
    return _language


@lru_cache(maxsize=1)
def _strings() -> dict[str, Text]:
    raw = json.loads(resources.files("dakoku_core").joinpath("data/strings.json").read_text("utf-8"))
    return {key: Text.from_data(value) for key, value in raw.items()}


def text(key: str) -> Text:
    """The UI string ``key`` (both languages). Raises KeyError for an unknown key."""
    return _strings()[key]


def tr(key: str, **context: object) -> str:
    """The UI string ``key`` in the current language, with ``{placeholders}`` filled in."""
    return text(key).format(**context)
