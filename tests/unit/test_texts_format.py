"""kiosk.ui.format for issue 12 item 5, without Kivy: line breaks at phrase boundaries, データ更新's summary, the
audit log in the current language, the remedy page's URL and QR code."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from dakoku_core import i18n
from kiosk.services.data_update import UpdateResult
from kiosk.ui import format as fmt

JST = timezone(timedelta(hours=9))


def width_of(text: str) -> float:
    """A stand-in for the font: full-width characters 10, ASCII 5."""
    return sum(5 if ch.isascii() else 10 for ch in text)


@pytest.fixture
def english():
    i18n.set_language("en")
    yield
    i18n.set_language("ja")


@pytest.mark.parametrize("width", range(40, 400, 10))
def test_lines_break_only_between_phrases_and_never_inside_a_name(width):
    text = "高橋 美咲さん、管理者パスワードの誤りが続いたため、ロックしています"
    lines = fmt.break_lines(text, width, width_of).split("\n")
    assert "".join(lines) == fmt.glue_names(text)               # nothing lost, nothing added
    assert all(width_of(line) <= width for line in lines)
    if width >= width_of("高橋\u00a0美咲さん、"):
        assert any("高橋\u00a0美咲" in line for line in lines)     # the name stays on one line
    if width >= width_of("ロックしています"):
        assert any("ロックしています" in line for line in lines)   # not 「ロックし / ています」
    if width >= width_of("管理者パスワードの"):
        assert all(line in fmt.glue_names(text) for line in lines)
        joined = ""
        for line in lines[:-1]:                                   # every break is a phrase boundary
            joined += line
            assert any(joined == "".join(fmt.phrases(text)[:n]) for n in range(1, len(fmt.phrases(text))))


def test_a_short_bracket_stays_whole():
    message = "管理者パスワードの誤りが続いたため、ロックしています(あと60秒)"
    assert fmt.phrases(message)[-1] == "(あと60秒)"
    for width in range(60, 400, 10):
        assert "あと\n" not in fmt.break_lines(message, width, width_of) and "(\n" not in fmt.break_lines(
            message, width, width_of)


def test_a_phrase_wider_than_the_line_breaks_where_a_word_starts():
    lines = fmt.break_lines("30秒間ロックしています", width_of("30秒間ロックしてい"), width_of).split("\n")
    assert lines == ["30秒間", "ロックしています"]


def test_latin_text_breaks_at_spaces_and_a_long_url_still_fits():
    lines = fmt.break_lines("Too many wrong manager passwords", 60, width_of).split("\n")
    assert lines == ["Too many", "wrong", "manager", "passwords"]
    url = "https://attendance.example.jp:8443/help/network"
    assert all(width_of(line) <= 100 for line in fmt.break_lines(url, 100, width_of).split("\n"))


def test_paragraphs_and_blank_lines_stay():
    assert fmt.break_lines("原因\n\n対処", 500, width_of) == "原因\n\n対処"


def test_a_data_update_that_changed_nothing_says_so():
    assert fmt.update_summary(UpdateResult(False, 7)) == "変更はありません(バージョン 7)"


def test_a_data_update_says_what_changed():
    full = UpdateResult(True, 8, full=True, employees=12)
    assert fmt.update_summary(full) == "更新しました(バージョン 8): 従業員 12 名を読み込みました"
    delta = UpdateResult(True, 9, employees=0, credentials=2, deleted=1)
    assert fmt.update_summary(delta) == "更新しました(バージョン 9): 認証情報 2 件、削除 1 件を更新しました"
    settings_only = fmt.update_summary(UpdateResult(True, 10))
    assert "従業員 0 名" not in settings_only and "従業員の変更はありません" in settings_only


def test_a_data_update_in_english(english):
    assert fmt.update_summary(UpdateResult(True, 9, employees=3)) == "Updated (version 9): 3 employees updated"


def test_the_audit_log_is_stored_as_keys_and_read_in_the_current_language(english):
    at = datetime(2026, 12, 3, 0, 35, tzinfo=JST)
    assert fmt.audit_line(at, "settings.open", "denied") == "12/03 00:35  Open settings: wrong password"
    i18n.set_language("ja")
    assert fmt.audit_line(at, "settings.open", "denied") == "12/03 00:35  設定を開く: パスワード誤り"
    failed = fmt.audit_line(at, "registration", "failed", "online_only")
    assert failed == "12/03 00:35  認証登録: 失敗 (この機能はオンライン時のみ利用できます)"
    assert fmt.audit_line(at, "something.new", "odd") == "12/03 00:35  something.new: odd"   # never blank


def test_every_action_and_outcome_the_kiosk_records_has_its_words():
    """Scan the kiosk's audit calls: each literal action/outcome has a Japanese and an English text."""
    import ast
    from pathlib import Path

    root = Path(fmt.__file__).resolve().parents[1]
    found = {("outcome", o) for o in ("granted", "denied", "locked_out")}   # recorded by the gate itself
    for path in root.rglob("*.py"):
        if "server" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            name = getattr(node, "func", None) and getattr(node.func, "attr", getattr(node.func, "id", ""))
            if name == "audit":
                kinds = list(zip(("action", "outcome"), node.args))
            elif name == "authenticate" and len(node.args) == 2:
                kinds = [("action", node.args[1])]
            else:
                continue
            found |= {(kind, arg.value) for kind, arg in kinds
                      if isinstance(arg, ast.Constant) and isinstance(arg.value, str)}
    assert ("action", "settings.open") in found and ("action", "registration.fingerprint") in found
    for kind, key in found:
        assert i18n.text(f"audit.{kind}.{key}").ja, (kind, key)


def test_the_help_link_is_the_servers_page_or_the_documentation():
    assert fmt.help_url("https://h.example:8443/help/", "network") == "https://h.example:8443/help/network"
    assert fmt.help_line("https://h.example:8443/help/network", "network").endswith("https://h.example:8443/help/network")
    assert "docs/remedies/network.md" in fmt.help_line(None, "network")


def test_the_qr_code_carries_the_url():
    import numpy as np
    import zxingcpp

    url = "https://127.0.0.1:8443/help/card-registration"
    rows = fmt.qr_rows(url)
    assert len(rows) == len(rows[0]) and not any(rows[0])          # square, with its quiet zone
    image = np.kron(np.array([[0 if dark else 255 for dark in row] for row in rows], dtype=np.uint8),
                    np.ones((4, 4), dtype=np.uint8))
    assert [r.text for r in zxingcpp.read_barcodes(image)] == [url]


@pytest.mark.parametrize("width", range(120, 700, 20))
def test_the_status_line_breaks_only_between_its_items_and_no_line_ends_with_the_separator(width):
    """Portrait standby broke 「指紋センサー: / 接続中」: the status line's items stay whole."""
    from datetime import datetime

    from kiosk.ports.devices import ReaderState
    from dakoku_core.domain.model import TimeSource

    now = datetime(2026, 12, 3, 9, 0)
    text = fmt.status_line(online=True, unsent=0, oldest=None, now=now, reader=ReaderState.READY,
                           source=TimeSource.SERVER, sensor="present")
    items = text.split("  ·  ")
    lines = fmt.break_lines(text, width, width_of, "  ·  ").split("\n")
    widest = max(width_of(item) for item in items)
    for line in lines:
        assert not line.endswith("·") and not line.startswith("·")
        if width >= widest:
            assert set(line.split("  ·  ")) <= set(items), lines   # whole items only
            assert width_of(line) <= width
    if width >= widest:
        assert "  ·  ".join(lines) == text   # nothing lost: each break took one separator out
