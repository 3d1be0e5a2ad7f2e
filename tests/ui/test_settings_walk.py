"""What a walk through 設定 by touch found (issue 12, session 7; real screens, offline demo): a section opens at its
top even when the previous one was left scrolled down; a change on 表示・機器 keeps the page where the finger was;
情報 and the audit log say everything in the language shown (no 「manual」, 「ja」 or 「simulated」 in Japanese);
row titles wrap between phrases; 詳細 says 詳細を閉じる while the details are open; the on-screen keys keep their
place when 123 / ABC is touched."""
from __future__ import annotations

from datetime import datetime
from itertools import accumulate

import pytest

from dakoku_core import i18n
from dakoku_core.errors import KioskError, Situation
from kiosk.ui import format as fmt
from kiosk.ui.wrap_label import WrapLabel
from kivy_harness import advance, running_app, screenshot, touch, wait_until
from layout_geometry import out_of_view
from registration_screens import open_settings

pytestmark = [pytest.mark.ui, pytest.mark.timeout(300)]


def rows_of(app):
    return list(reversed(app.settings_screen.ids.rows.children))   # top first


def centre_in_view(widget) -> bool:
    """Where a finger would touch it is inside the section's scroll view (the notice 保存しました may take a line)."""
    x, y = widget.to_window(widget.center_x, widget.center_y)
    view = widget.get_root_window() and widget
    while view is not None and type(view).__name__ != "ScrollView":
        view = view.parent
    vx, vy = view.to_window(view.x, view.y)
    return vx <= x <= vx + view.width and vy <= y <= vy + view.height


def info_rows(app):
    return [r for r in rows_of(app) if type(r).__name__ == "SettingsRow"]


def test_a_section_opens_at_its_top_and_a_change_keeps_the_page_where_it_was(window, tmp_path):
    with running_app(window, tmp_path) as app:
        window.size = (1280, 800)
        advance(3)
        open_settings(app)
        screen = app.settings_screen
        touch(screen._section_buttons["display"])
        page = app.manager_flow.pages["display"]
        wait_until(lambda: "silent" in page.rows)
        advance(3)
        screen.ids.rows_scroll.scroll_y = 0          # the manager scrolled to the bottom (音, 読み取り機)
        advance(3)
        silent = page.rows["silent"]
        assert out_of_view([silent.button("オン")]) == []
        touch(silent.button("オン"))
        wait_until(lambda: page.rows.get("silent") is not silent)    # saved and shown anew
        advance(3)
        assert app.kiosk.settings.sound.silent
        assert centre_in_view(page.rows["silent"].button("オフ")), "the page jumped away from the finger"

        touch(screen._section_buttons["connection"])
        wait_until(lambda: screen.section == "connection" and len(rows_of(app)) > 1)
        advance(3)
        first = rows_of(app)[0]
        assert out_of_view([first]) == [], "接続先 opened where 表示・機器 was left scrolled"

        touch(screen._section_buttons["diagnosis"])   # before it is run, the page says what it checks
        assert "証明書" in screen.notice and "確かめます" in screen.notice

        touch(screen.ids.quit_button)                  # 終了する in the red of 終了, not an everyday blue
        wait_until(lambda: screen.section == "quit")
        assert list(screen.ids.actions.children)[0].face_color == screen.ids.quit_button.face_color


def test_the_info_page_and_the_audit_log_speak_the_language_shown(window, tmp_path):
    try:
        with running_app(window, tmp_path) as app:
            window.size = (800, 1280)
            advance(3)
            open_settings(app)
            app.manager_flow.audit("settings.connection_change", "run", "manual")
            app.manager_flow.show("info")
            wait_until(lambda: any(r.title == "カードリーダー" for r in info_rows(app)))
            advance(3)
            values = {r.title: r.value for r in info_rows(app)}
            assert "シミュレーション" in values["カードリーダー"] and "simulated" not in values["カードリーダー"]
            assert "接続先変更: 実行 (接続文字列と証明書)" in values["管理者操作の記録"]
            assert values["送信エラー"] == "なし"
            for row in info_rows(app):                # portrait: titles above values, wrapped between phrases
                for label in (row.ids.title_label, row.ids.value_label):
                    assert isinstance(label, WrapLabel)
                    assert_breaks_between_phrases(label)
            buttons = list(app.settings_screen.ids.actions.children)
            touch(buttons[-1])                        # English
            wait_until(lambda: i18n.language() == "en")
            app.manager_flow.show("info")
            wait_until(lambda: any(r.title == "Card reader" for r in info_rows(app)))
            values = {r.title: r.value for r in info_rows(app)}
            assert "Simulated" in values["Card reader"]
            assert "Language: saved (English)" in values["Manager actions"]
            assert "(connection string and certificate)" in values["Manager actions"]
            # 認証登録 registers cards and fingers: not 「Cards」
            assert app.settings_screen._section_buttons["registration"].text == "Register"
    finally:
        i18n.set_language("ja")
        window.size = (1280, 800)
        advance(3)


def assert_breaks_between_phrases(label) -> None:
    """The lines the label draws end where a phrase ends (never 「受け付け / なかった」)."""
    drawn = label._label.text.split("\n")
    for paragraph in label.text.split("\n"):
        ends = set(accumulate(len(_squash(p)) for p in fmt.phrases(paragraph)))
        total, at = len(_squash(paragraph)), 0
        while True:
            line = drawn.pop(0)
            at += len(_squash(line))
            if at >= total:
                break
            assert at in ends, f"{line!r} ends inside a phrase of {paragraph!r}"
    assert drawn == []


def _squash(text: str) -> str:
    return text.replace(" ", "").replace("\u00a0", "")


def test_the_details_button_says_it_closes_them_while_they_are_open(window, tmp_path):
    with running_app(window, tmp_path) as app:
        app.presenter.show(KioskError("certificate_invalid", situation=Situation.CONNECTION_CHANGE))
        wait_until(lambda: app.presenter.is_open)
        dialog = app.presenter.dialog
        advance(3)
        assert dialog.ids.details_button.text == "詳細"
        from kivy.metrics import dp
        gap = dialog.ids.message_label.y - dialog.ids.details_button.top   # nothing shown between them
        assert gap <= dp(20), f"{gap:.0f} px of empty dialog between the message and its buttons"
        touch(dialog.ids.details_button)
        advance(3)
        assert dialog.details_open and dialog.ids.details_button.text == "詳細を閉じる"
        touch(dialog.ids.details_button)
        advance(3)
        assert not dialog.details_open and dialog.ids.details_button.text == "詳細"


def test_the_on_screen_keys_keep_their_place_between_letters_and_digits(window, tmp_path):
    with running_app(window, tmp_path) as app:
        for size in ((1280, 800), (800, 1280)):
            window.size = size
            advance(3)
            if app.manager.current != "settings":
                open_settings(app)
            app.manager_flow.show("connection")
            form = app.manager_flow._form
            wait_until(lambda: form.parent is not None)
            advance(5)
            touch(form.ids.code_field.ids.input)
            sheet = form.sheet
            wait_until(lambda: sheet.parent is not None)
            advance(10)
            done, page = sheet.ids.done_button, sheet.ids.page_button
            before = (done.to_window(*done.pos), sheet.height)
            touch(page)
            advance(5)
            assert sheet.digits
            assert (done.to_window(*done.pos), sheet.height) == before, f"完了 moved at {size}"
            assert out_of_view([page]) == []
            touch(done)
            wait_until(lambda: sheet.parent is None)
        window.size = (1280, 800)
        advance(3)


def test_audit_details_stored_as_keys_are_shown_as_words():
    at = datetime(2026, 12, 3, 15, 4)
    assert fmt.audit_line(at, "settings.connection_change", "run", "pairing").endswith("(ペアリングコード)")
    assert fmt.audit_line(at, "settings.display", "run", "sound.volume").endswith("(音量)")
    assert fmt.audit_line(at, "settings.language", "saved", "en").endswith("(英語)")
    assert fmt.audit_line(at, "registration", "done", "1001").endswith("(1001)")   # a code stays a code


def test_beside_the_demo_panel_at_1280x800_the_code_keys_and_the_choices_fit(window, tmp_path):
    """`kiosk demo` at 1280×800 leaves 設定 about 1280×644 above its panel (cards and fingers): the sections go to
    two columns, and the page beside them is narrower. This harness's panel has no finger row, so its window is
    56 px lower to leave 設定 the same room. The kana initials stay on one row (the code keypad's bottom row 7 8 9 0 was below the fold) and no
    choice on 表示・機器 is broken in two lines (「PC/SC (PaSoRi / など)」)."""
    from kivy.metrics import dp

    from dakoku_core.domain.kana import ROWS
    from dakoku_core.i18n import tr
    from kiosk.ui.keypad import CodeEntry
    from kiosk.ui.screens import fit

    with running_app(window, tmp_path) as app:
        try:
            window.size = (1280, 744)
            advance(3)
            open_settings(app)
            screen = app.settings_screen
            wait_until(lambda: len(screen.ids.rows.children) > 0)
            advance(5)
            assert 630 <= screen.height <= 660
            # 認証登録 as its flow fills it (kiosk/ui/registration_flow.py; online only, and this demo is offline)
            screen.show_section("registration", [(row, lambda: None) for row in ROWS])
            screen.notice = tr("registration.choose_row")
            screen.show_form(CodeEntry())
            advance(10)
            assert screen.ids.nav.cols == 2
            screenshot(window, "settings_registration_demo_1280x744")
            entry = next(w for w in screen.ids.rows.children if isinstance(w, CodeEntry))
            keys = [*entry.ids.keypad.children, entry.ids.letters_button, entry.ids.search_button]
            assert out_of_view(keys) == [], "認証登録's code keys below the fold"
            assert screen.ids.actions.cols == len(screen.ids.actions.children) == 10

            window.size = (800, 1280)                   # portrait: the kana in two even rows, not 9 and a lone ワ
            advance(10)
            assert screen.ids.actions.cols == 5
            assert out_of_view(keys) == []
            window.size = (1280, 744)
            advance(5)

            touch(screen._section_buttons["display"])
            page = app.manager_flow.pages["display"]
            wait_until(lambda: "reader" in page.rows)
            advance(5)
            for name, row in page.rows.items():
                for button in row.ids.choices.children:
                    needed = fit.text_size(button.text, button.font_size, "Roboto", True)[0] + dp(24)
                    assert needed <= button.width + 1, f"{name}: {button.text!r} is broken in {button.width:.0f} px"
        finally:
            window.size = (1280, 800)
            advance(3)


def test_the_employee_page_of_registration_says_where_a_lost_card_is_deleted(window, tmp_path):
    """認証登録's ICカードを削除 needs the card; a manager whose employee lost it is sent to 認証情報, which is a
    section button of 設定."""
    with running_app(window, tmp_path) as app:
        open_settings(app)
        screen = app.settings_screen
        employee = app.kiosk.registration.employees_in_row("ヤ")[0]
        app.manager_flow.registration.choose(employee)
        wait_until(lambda: any(r.title == "なくしたカード" for r in info_rows(app)))
        hint = next(r.value for r in info_rows(app) if r.title == "なくしたカード")
        assert f"[{screen._section_buttons['credentials'].text}]" in hint and "手元になくても" in hint


@pytest.mark.parametrize("language", ["ja", "en"])
def test_every_section_in_both_languages_at_every_size(window, tmp_path, language):
    """Each section of 設定, Japanese and English, at 1280×800, 1920×1080 and 800×1280: touch targets inside the
    window and ≥ 12 mm, no text clipped or squeezed, no word broken (tests/layout_geometry.py)."""
    from kiosk.ui.manager_flow import SECTIONS
    from kiosk.ui.window import display_dpi
    from layout_geometry import problems

    try:
        with running_app(window, tmp_path) as app:
            open_settings(app)
            if language == "en":
                app.manager_flow.show("info")
                advance(3)
                touch(list(app.settings_screen.ids.actions.children)[-1])   # English, as a manager switches
                wait_until(lambda: i18n.language() == "en")
            screen = app.settings_screen
            found = []
            for size in ((1280, 800), (1920, 1080), (800, 1280)):
                window.size = size
                advance(5)
                for section in SECTIONS:
                    touch(screen._section_buttons[section])
                    wait_until(lambda: screen.ids.rows.children or app.presenter.is_open   # offline: online only
                               or section in ("diagnosis", "quit"), timeout=20)
                    advance(12)
                    found += [f"{language} {size} {section}: {p}" for p in problems(app.root, display_dpi())]
                    if app.presenter.is_open:
                        app.presenter.dismiss()
                        advance(3)
            assert screen._section_buttons["info"].text == ("About" if language == "en" else "情報")
            assert not found, "\n".join(found)
    finally:
        i18n.set_language("ja")
        window.size = (1280, 800)
        advance(3)
