"""Texts the screens show, computed without Kivy (so they are unit-tested without a window)."""
from __future__ import annotations

import re
from datetime import datetime
from functools import lru_cache
from typing import Callable

from dakoku_core.domain.model import Punch, PunchKind, TimeSource
from dakoku_core.errors import catalogue
from dakoku_core.i18n import text, tr
from kiosk.ports import ReaderState


_label_overrides: dict[str, str] = {}


def set_kind_labels(labels: dict[str, str]) -> None:
    """The punch types' names: the break pair as the server's break_labels says (休憩/外出), the others as the
    display settings may relabel them (kiosk.ui.app.KioskApp.apply_recorder_settings)."""
    _label_overrides.clear()
    _label_overrides.update(labels)


def kind_label(kind: PunchKind) -> str:
    return _label_overrides.get(kind.value) or tr(f"punch.{kind.value}")


def date_line(at: datetime) -> str:
    names = text("weekday").get()
    width = 1 if len(names) == 7 else 3
    weekday = names[at.weekday() * width:(at.weekday() + 1) * width]
    return tr("date.format", year=at.year, month=at.month, day=at.day, weekday=weekday)


def clock_line(at: datetime) -> str:
    return at.strftime("%H:%M:%S")


def age_text(seconds: float) -> str:
    minutes = int(seconds // 60)
    if minutes < 60:
        return tr("age.minutes", n=max(minutes, 0))
    if minutes < 24 * 60:
        return tr("age.hours", n=minutes // 60)
    return tr("age.days", n=minutes // (24 * 60))


def status_line(*, online: bool, unsent: int, oldest: datetime | None, now: datetime,
                reader: ReaderState | None, source: TimeSource, sensor: str | None = None, refused: int = 0) -> str:
    """One line: online/offline, unsent punches, punches the server refused (送信エラー, when there are any),
    reader state, fingerprint sensor state (when one is configured: "present", "absent" or "failed"), time
    source."""
    parts = [tr("status.online" if online else "status.offline")]
    if unsent and oldest is not None:
        parts.append(tr("status.unsent_oldest", count=unsent, age=age_text((now - oldest).total_seconds())))
    else:
        parts.append(tr("status.unsent", count=unsent))
    if refused:
        parts.append(tr("status.refused", count=refused))
    parts.append(tr(f"status.reader.{reader.value}" if reader else "status.reader.starting"))
    if sensor is not None:
        parts.append(tr(f"status.sensor.{sensor}"))
    parts.append(tr(f"status.time.{source.value}"))
    return "  ·  ".join(parts)


def update_summary(result) -> str:
    """What a データ更新 brought (a :class:`kiosk.services.data_update.UpdateResult`): 「変更はありません」 when
    the server had nothing new, else what changed (not 「従業員 0 名」 for an update that changed no employee)."""
    if not result.changed:
        return tr("update.unchanged", version=result.version)
    if result.full:
        return tr("update.done", version=result.version, changes=tr("update.full", employees=result.employees))
    parts = [tr(f"update.{name}", n=count) for name, count in (
        ("employees", result.employees), ("credentials", result.credentials),
        ("help_registrations", result.help_registrations), ("deleted", result.deleted)) if count]
    changes = tr("update.joiner").join(parts) + tr("update.changed_suffix") if parts else tr("update.settings_only")
    return tr("update.done", version=result.version, changes=changes)


def audit_line(at: datetime, action: str, outcome: str, detail: str = "") -> str:
    """One entry of the manager audit log in the current language (stored as keys: ``settings.open``,
    ``denied``); an action or outcome with no text yet shows its key rather than nothing."""
    def text_of(kind: str, key: str) -> str:
        try:
            return tr(f"audit.{kind}.{key}")
        except KeyError:
            return key

    if detail in catalogue():   # a failure is stored as its catalogue key: show the message
        detail = catalogue()[detail].message().get()
    elif detail:                # a mode, a language or a setting is stored as its key: its name (a code stays)
        detail = text_of("detail", detail)
    values = dict(at=f"{at:%m/%d %H:%M}", action=text_of("action", action), outcome=text_of("outcome", outcome))
    return tr("audit.line_detail", detail=detail, **values) if detail else tr("audit.line", **values)


def help_url(base: str | None, page: str) -> str:
    """The short URL of a remedy page: the server's ``…/help/<page>`` (docs/remedies/README.md)."""
    return (base or "").rstrip("/") + "/" + page if base else f"docs/remedies/{page}.md"


def help_line(url: str | None, page: str) -> str:
    """Under 対処方法: where the page is (its URL beside the QR code, or its place in the documentation)."""
    return tr("error.help", url=url) if url else tr("error.help_docs", path=f"docs/remedies/{page}.md")


def qr_rows(url: str) -> list[list[bool]]:
    """The QR code of ``url`` as rows of modules (True: dark), quiet zone included."""
    import segno   # pure Python

    return [[bool(v) for v in row] for row in segno.make(url, error="m", micro=False).matrix_iter(border=4)]


def history_line(punch: Punch, name: str) -> str:
    return f"{punch.stamped_at:%H:%M}  {kind_label(punch.kind)}  {name}"


def without_password(url: str) -> str:
    """A proxy URL as it may be shown on screen: credentials masked."""
    scheme, sep, rest = url.partition("://")
    if sep and "@" in rest.split("/", 1)[0]:
        user = rest.split("@", 1)[0].split(":", 1)[0]
        return f"{scheme}://{user}:***@{rest.split('@', 1)[1]}"
    return url


# -- line breaking -------------------------------------------------------------------------------------------
# Kivy breaks a line at spaces, and anywhere inside a run without one: Japanese broke mid-word (「ロックし /
# ています」) and names broke at their space (「高橋 / 美咲」). Every label that wraps (kiosk.ui.wrap_label) breaks
# its text here first: only between phrases (BudouX, Japanese phrase boundaries) and at spaces in Latin text;
# never inside a name (a space between two Japanese characters joins, as U+00A0), never mid-phrase unless one
# phrase alone is wider than the line.
NBSP = "\u00a0"
_JA = "\u3005\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff\uff10-\uff5a"
_NAME_SPACE = re.compile(f"(?<=[{_JA}]) +(?=[{_JA}])")
_WORDS = re.compile(r"[^ ]+ *| +")


@lru_cache(maxsize=1)
def _phrase_parser():
    import budoux   # pure Python; its Japanese model ships in the package

    return budoux.load_default_japanese_parser()


def glue_names(text: str) -> str:
    """A space between two Japanese characters (a name: 高橋 美咲) becomes a no-break space."""
    return _NAME_SPACE.sub(NBSP, text)


def phrases(paragraph: str) -> list[str]:
    """The pieces of one paragraph between which a line may break; their concatenation is
    ``glue_names(paragraph)``."""
    text = glue_names(paragraph)
    pieces: list[str] = []
    for chunk in _phrase_parser().parse(text) if text else []:
        for word in _WORDS.findall(chunk):
            if pieces and (pieces[-1].endswith(NBSP) or word.startswith(NBSP) or not pieces[-1].endswith(" ")
                           and _glued(pieces[-1], word)):
                pieces[-1] += word
            elif pieces and (_short_bracket_open(pieces[-1]) or word[:1] in _NO_LINE_START):
                pieces[-1] += word
            else:
                pieces.append(word)
    return pieces


_OPENING, _CLOSING = "(（「『[", ")）」』]"
_NO_LINE_START = _CLOSING + "、。，．：:;；!！?？"   # 行頭禁則: these never begin a line


def _short_bracket_open(piece: str) -> bool:
    """A bracket opened in ``piece`` and not closed, with little inside so far: 「(あと60秒)」 stays whole."""
    start = max(piece.rfind(c) for c in _OPENING)
    inside = piece[start + 1:]
    return start >= 0 and not any(c in inside for c in _CLOSING) and len(inside) <= 10


def _glued(before: str, after: str) -> bool:
    """No break between Latin letters or digits that touch (BudouX may cut 'v2.3' or an URL)."""
    return before[-1:].isascii() and after[:1].isascii() and before[-1:].isalnum() and after[:1].isalnum()


def break_lines(text: str, width: float, measure: Callable[[str], float], separator: str = "") -> str:
    """``text`` with a newline wherever a line must break to fit ``width`` (as ``measure`` sizes a string): between
    phrases, or with ``separator`` only after one, and then without it at the end of the line."""
    lines: list[str] = []
    mark = separator.strip()
    if separator:   # a line ending in the separator is measured, and drawn, without it
        measure = (lambda size: lambda s: size(s.removesuffix(mark).rstrip(" ")))(measure)
    for paragraph in text.split("\n"):
        lines += _fill(_items(paragraph, separator) if separator else phrases(paragraph), width, measure) or [""]
    if mark:
        lines = [line.removesuffix(mark).rstrip(" ") for line in lines]
    return "\n".join(lines)


def _items(paragraph: str, separator: str) -> list[str]:
    """``paragraph``'s items, each with the separator that follows it."""
    items = paragraph.split(separator)
    return [item + separator for item in items[:-1]] + items[-1:]


def _fill(pieces: list[str], width: float, measure: Callable[[str], float]) -> list[str]:
    lines: list[str] = []
    line = ""
    for piece in pieces:
        if line and measure((line + piece).rstrip(" ")) > width:
            lines += _split_long(line.rstrip(" "), width, measure)
            line = piece.lstrip(" ")
        else:
            line += piece
    return lines + _split_long(line.rstrip(" "), width, measure) if line.strip() else lines


def _split_long(line: str, width: float, measure: Callable[[str], float]) -> list[str]:
    """The last resort for one phrase wider than the whole line: break where a new word starts (before a kanji or
    katakana run, not before the hiragana that ends a word: 「30秒間 / ロックしています」; after a slash in a URL), else
    anywhere."""
    if measure(line) <= width or len(line) < 2:
        return [line]
    fits = len(line) - 1
    while fits > 1 and measure(line[:fits]) > width:
        fits -= 1
    starts = [i for i in range(1, fits + 1) if _word_start(line[i - 1], line[i]) or line[i - 1] in "/?&"]
    cut = starts[-1] if starts else fits
    return [line[:cut]] + _split_long(line[cut:], width, measure)


def _script(char: str) -> str:
    if "\u3040" <= char <= "\u309f":
        return "hiragana"
    if "\u30a0" <= char <= "\u30ff":
        return "katakana"
    if "\u3400" <= char <= "\u9fff" or char == "\u3005":
        return "kanji"
    return "other"


def _word_start(before: str, after: str) -> bool:
    return _script(after) in ("kanji", "katakana") and _script(before) != _script(after) and before != NBSP
