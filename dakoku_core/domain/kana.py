"""Kana initials for finding an employee on a touch screen (Kivy has no Japanese input method):
ア カ サ タ ナ ハ マ ヤ ラ ワ rows, from the reading (katakana or hiragana)."""
from __future__ import annotations

ROWS = ("ア", "カ", "サ", "タ", "ナ", "ハ", "マ", "ヤ", "ラ", "ワ")
_ROW_CHARS = (
    "アイウエオァィゥェォヴ", "カキクケコガギグゲゴヵヶ", "サシスセソザジズゼゾ", "タチツテトダヂヅデドッ",
    "ナニヌネノ", "ハヒフヘホバビブベボパピプペポ", "マミムメモ", "ヤユヨャュョ", "ラリルレロ", "ワヲンヮ",
)
_ROW_OF = {c: i for i, chars in enumerate(_ROW_CHARS) for c in chars}


def to_katakana(text: str) -> str:
    return "".join(chr(ord(c) + 0x60) if "ぁ" <= c <= "ゖ" else c for c in text)


def kana_row(reading: str) -> str | None:
    """The row (ア, カ, ...) of the reading's first kana, or None when it has no kana."""
    for char in to_katakana(reading.strip()):
        if char in _ROW_OF:
            return ROWS[_ROW_OF[char]]
        if not char.isspace():
            return None
    return None
