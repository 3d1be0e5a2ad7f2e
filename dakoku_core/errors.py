"""The error catalogue: every user-visible error of the kiosk, keyed, as data.

The rows live in ``dakoku_core/data/catalogue.json`` (transcribed from the anchor product's catalogue; see
``docs/errors.md``). Code raises :class:`KioskError` with a catalogue *key*; the presenter looks the key up.
Nothing ever matches on message text.

A row may carry several messages, causes and remedies:
- ``messages`` maps a *variant* (a situation such as ``"data_update"``, or a named variant) to a text;
  ``"default"`` is required. Lookup order: the error's variant, then its situation, then ``"default"``.
- ``causes`` / ``remedies`` map a cause letter (``"A"``, ``"B"``, ...) or ``"default"`` to a text.
- ``help`` (optional) names the page in ``docs/remedies/`` that tells a manager more: one page for the row, or a
  map from cause letter (or ``"default"``) to a page. The error presenter shows it as a QR code and a short URL.
- ``credential`` (optional) holds texts for the credential at hand: ``{"card": {"causes": {...}, "remedies":
  {...}, "help": ...}}`` override the row's for an error raised with ``credential="card"`` (an unregistered card
  is not a biometric problem).
"""
from __future__ import annotations

import json
import traceback
from dataclasses import dataclass, field
from enum import Enum
from functools import lru_cache
from importlib import resources
from typing import Iterator, Mapping

from dakoku_core.i18n import Text


class Situation(str, Enum):
    """発生状況: where in the product an error happens."""

    STARTUP = "startup"                      # タイムレコーダー起動時
    INITIAL_SETUP = "initial_setup"          # 初期設定時
    CONNECTION_CHANGE = "connection_change"  # 接続先変更時
    DATA_UPDATE = "data_update"              # データ更新時
    REGISTRATION = "registration"            # 認証登録時
    HELP_REGISTRATION = "help_registration"  # ヘルプ登録時
    PUNCH = "punch"                          # 打刻時
    BROWSER = "browser"                      # ブラウザ起動時
    LOG_EXPORT = "log_export"                # ログ書き出し時 (設定 › 情報; ours, not the seed's)


DEFAULT = "default"


@dataclass(frozen=True)
class CatalogueEntry:
    key: str
    code: str | None
    messages: Mapping[str, Text]
    situations: tuple[Situation, ...]
    causes: Mapping[str, Text]
    remedies: Mapping[str, Text]
    help: Mapping[str, str] = field(default_factory=dict)
    credential: Mapping[str, "CatalogueEntry"] = field(default_factory=dict)

    def message(self, variant: str | None = None, situation: Situation | None = None) -> Text:
        for candidate in (variant, situation.value if situation else None, DEFAULT):
            if candidate and candidate in self.messages:
                return self.messages[candidate]
        raise KeyError(f"{self.key}: no message for variant={variant!r} situation={situation!r}")

    def cause(self, letter: str | None = None) -> Text:
        return _pick(self.causes, letter, self.key)

    def remedy(self, letter: str | None = None) -> Text:
        return _pick(self.remedies, letter, self.key)

    def help_page(self, letter: str | None = None) -> str | None:
        return self.help.get(letter or DEFAULT) or self.help.get(DEFAULT)

    def for_credential(self, credential: str | None) -> "CatalogueEntry":
        """This row with the texts for ``credential`` (e.g. "card") where it has its own."""
        own = self.credential.get(credential or "")
        if own is None:
            return self
        return CatalogueEntry(self.key, self.code, self.messages, self.situations,
                              {**self.causes, **own.causes}, {**self.remedies, **own.remedies},
                              {**self.help, **own.help})


def _pick(table: Mapping[str, Text], letter: str | None, key: str) -> Text:
    if letter and letter in table:
        return table[letter]
    if DEFAULT in table:
        return table[DEFAULT]
    if letter is None and table:
        # Several lettered causes and none chosen: show them all, each with its letter.
        return Text(
            "\n".join(f"{k}: {v.ja}" for k, v in table.items()),
            "\n".join(f"{k}: {v.en}" for k, v in table.items()),
        )
    raise KeyError(f"{key}: no entry for {letter!r}")


class Catalogue:
    def __init__(self, entries: list[CatalogueEntry]):
        self._entries = {e.key: e for e in entries}
        if len(self._entries) != len(entries):
            raise ValueError("duplicate catalogue keys")

    def __getitem__(self, key: str) -> CatalogueEntry:
        return self._entries[key]

    def __contains__(self, key: object) -> bool:
        return key in self._entries

    def __iter__(self) -> Iterator[CatalogueEntry]:
        return iter(self._entries.values())

    def __len__(self) -> int:
        return len(self._entries)

    def by_code(self, code: str) -> CatalogueEntry:
        for entry in self._entries.values():
            if entry.code == code:
                return entry
        raise KeyError(code)

    @classmethod
    def from_data(cls, rows: list[dict]) -> "Catalogue":
        entries = []
        for row in rows:
            messages = {k: Text.from_data(v) for k, v in row["messages"].items()}
            if DEFAULT not in messages:
                raise ValueError(f"{row['key']}: messages need a 'default'")
            entries.append(CatalogueEntry(
                key=row["key"],
                code=row.get("code"),
                messages=messages,
                situations=tuple(Situation(s) for s in row["situations"]),
                causes={k: Text.from_data(v) for k, v in row["causes"].items()},
                remedies={k: Text.from_data(v) for k, v in row["remedies"].items()},
                help=_help_pages(row.get("help")),
                credential={name: _credential_texts(row["key"], part)
                            for name, part in row.get("credential", {}).items()},
            ))
        return cls(entries)


def _help_pages(data: object) -> dict[str, str]:
    return {DEFAULT: data} if isinstance(data, str) else dict(data or {})


def _credential_texts(key: str, part: dict) -> CatalogueEntry:
    return CatalogueEntry(key, None, {}, (), {k: Text.from_data(v) for k, v in part.get("causes", {}).items()},
                          {k: Text.from_data(v) for k, v in part.get("remedies", {}).items()},
                          _help_pages(part.get("help")))


@lru_cache(maxsize=1)
def catalogue() -> Catalogue:
    raw = resources.files("dakoku_core").joinpath("data/catalogue.json").read_text("utf-8")
    return Catalogue.from_data(json.loads(raw)["entries"])


@dataclass
class KioskError(Exception):
    """An error the user sees: a catalogue key plus what is needed to show it.

    ``context`` fills placeholders in the message (e.g. ``name`` and ``code`` of an employee);
    ``detail`` is for logs and the details pane (e.g. the underlying exception), never matched on.
    """

    key: str
    situation: Situation | None = None
    variant: str | None = None
    cause_letter: str | None = None
    context: dict = field(default_factory=dict)
    detail: str = ""
    device: str | None = None   # "reader" or "sensor": clearing one device's error leaves the other's shown
    credential: str | None = None   # "card" or "finger": the cause and remedy for the credential at hand

    def __post_init__(self) -> None:
        super().__init__(self.key)
        if self.key not in catalogue():
            raise ValueError(f"unknown catalogue key {self.key!r}")

    @property
    def entry(self) -> CatalogueEntry:
        return catalogue()[self.key].for_credential(self.credential)

    @property
    def code(self) -> str | None:
        return self.entry.code

    def message(self, language: str | None = None) -> str:
        return self.entry.message(self.variant, self.situation).format(language, **self.context)

    def cause(self, language: str | None = None) -> str:
        return self.entry.cause(self.cause_letter).get(language)

    def remedy(self, language: str | None = None) -> str:
        return self.entry.remedy(self.cause_letter).get(language)

    def help_page(self) -> str | None:
        """The docs/remedies page (its name) that tells a manager more about this error, if any."""
        return self.entry.help_page(self.cause_letter)

    def __str__(self) -> str:
        code = f"[{self.code}] " if self.code else ""
        extra = f" ({self.detail})" if self.detail else ""
        return f"{code}{self.key}: {self.message('en')}{extra}"


def unexpected(exc: BaseException, situation: Situation | None = None) -> KioskError:
    """Wrap anything unforeseen as catalogue 999, keeping the traceback for the log."""
    tb = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    return KioskError("unexpected", situation=situation, detail=tb)
