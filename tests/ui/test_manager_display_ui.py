"""設定 › 表示・機器 by touch on the real screens (offline demo): 出勤 renamed 出社 and 休憩開始 hidden on standby at
once, モード動作 and a time-of-day window taken by the punch flow, volume saved; the server's 休憩/外出 wording and
打刻履歴 read-only; hiding the last button refused with 010 and nothing changed. Rendered at three sizes."""
from __future__ import annotations

import json

import pytest

from dakoku_core.domain.model import PunchKind
from kivy_harness import advance, running_app, screenshot, touch, wait_until
from registration_screens import open_settings

pytestmark = [pytest.mark.ui, pytest.mark.timeout(300)]
SIZES = [(1280, 800), (1920, 1080), (800, 1280)]


def into_view(page, row: str):
    """Scroll the section to the row, as a person would before touching it."""
    page.app.settings_screen.ids.rows.parent.scroll_to(page.rows[row], padding=20, animate=False)
    advance(3)
    return page.rows[row]


def tap(page, row: str, label: str) -> None:
    before = into_view(page, row)
    touch(before.button(label))
    wait_until(lambda: page.rows.get(row) is not before or page.app.presenter.is_open)   # saved: shown anew
    advance(2)


def stored(tmp_path) -> dict:
    return json.loads((tmp_path / "settings.json").read_text("utf-8"))


def standby_kinds(app) -> set:
    return {b.kind for b in app.standby.ids.punch_buttons.children}


def test_display_settings_by_touch_apply_at_once(window, tmp_path):
    with running_app(window, tmp_path) as app:
        open_settings(app)
        touch(app.settings_screen._section_buttons["display"])
        page = app.manager_flow.pages["display"]
        wait_until(lambda: "punch_mode" in page.rows)
        assert "サーバーで設定" in page.rows["break_labels"].note and not page.rows["break_labels"].ids.choices.children
        assert "サーバーで設定" in page.rows["history"].note
        for size in SIZES:
            window.size = size
            advance(8)
            screenshot(window, f"settings_display_{size[0]}x{size[1]}")
        window.size = (1280, 800)
        advance(5)

        tap(page, "label.clock_in", "出社")
        assert app.standby.punch_button(PunchKind.CLOCK_IN).text == "出社"
        assert stored(tmp_path)["display"]["labels"] == {"clock_in": "出社"}
        assert app.settings_screen.notice == "保存しました"

        tap(page, "hidden.break_start", "隠す")
        assert PunchKind.BREAK_START not in standby_kinds(app)
        tap(page, "punch_mode", "モード動作")
        assert app.display.punch_mode == "keep"
        tap(page, "new.start", "+30分")                    # 05:30
        tap(page, "new.kind", page.rows["new.kind"].ids.choices.children[-2].text)   # the second type: 退勤
        tap(page, "new.add", "この時間帯を追加")
        assert stored(tmp_path)["display"]["auto_modes"] == [{"kind": "clock_out", "start": "05:30", "end": "12:59"}]
        assert [(m.kind, f"{m.start:%H:%M}") for m in app.flow.auto_modes] == [(PunchKind.CLOCK_OUT, "05:30")]
        tap(page, "volume", "50%")
        assert app.kiosk.settings.sound.volume == 0.5 and stored(tmp_path)["sound"] == {"volume": 0.5}
        tap(page, "reader", "キーボード入力型")
        assert "再起動後" in app.settings_screen.notice and stored(tmp_path)["reader"] == {"backend": "wedge"}

        for kind in ("clock_out", "break_end"):
            tap(page, f"hidden.{kind}", "隠す")
        before = (tmp_path / "settings.json").read_bytes()
        touch(into_view(page, "hidden.clock_in").button("隠す"))       # the last one: refused
        wait_until(lambda: app.presenter.is_open)
        assert app.presenter.current.key == "settings_unreadable" and app.presenter.current.code == "010"
        assert (tmp_path / "settings.json").read_bytes() == before and standby_kinds(app) == {PunchKind.CLOCK_IN}
