"""Text for the reader at hand (issue 12 item 5): remedies link real pages, no dead 「こちら」, a card is not a
biometric problem, no file-manager lessons for a manager at the kiosk."""
from __future__ import annotations

import json
import re
from importlib import resources
from pathlib import Path

import pytest

from dakoku_core.errors import KioskError, catalogue

ROOT = Path(__file__).resolve().parents[2]
PAGES = ROOT / "docs" / "remedies"
ROWS = json.loads(resources.files("dakoku_core").joinpath("data/catalogue.json").read_text("utf-8"))["entries"]


def _pages_named() -> set[str]:
    named = set()
    for row in ROWS:
        for part in [row] + list(row.get("credential", {}).values()):
            value = part.get("help")
            named |= {value} if isinstance(value, str) else set((value or {}).values())
    return named


def _texts():
    for row in ROWS:
        for part in [row] + list(row.get("credential", {}).values()):
            for field in ("causes", "remedies"):
                for letter, text in part.get(field, {}).items():
                    yield row["key"], field, letter, text


def test_every_page_a_row_names_exists_and_every_page_is_named():
    named = _pages_named()
    on_disk = {p.stem for p in PAGES.glob("*.md")} - {"README"}
    assert named and named <= on_disk, named - on_disk
    assert on_disk <= named, f"pages no error links to: {on_disk - named}"
    for page in named:
        text = (PAGES / f"{page}.md").read_text("utf-8")
        assert text.startswith("# ") and "## English" in text and len(text) < 2500, page   # short, both languages


def test_no_remedy_points_at_nothing():
    for key, field, letter, text in _texts():
        assert "こちら" not in text["ja"], (key, field, letter)
        assert "see details" not in text["en"] and "described here" not in text["en"], (key, field, letter)
        assert "Ctrl+H" not in text["ja"] + text["en"] and "隠し" not in text["ja"], (key, field, letter)


@pytest.mark.parametrize("key", ["connection_string_invalid", "connect_failed", "timeout", "tls_or_proxy_failed",
                                 "server_error", "settings_unreadable", "startup_data_missing", "ip_not_allowed",
                                 "certificate_invalid", "certificate_invalid_local", "device_init_failed",
                                 "enrollment_failed", "break_not_allowed", "password_punch_not_allowed"])
def test_remedies_that_need_more_have_a_page(key):
    assert KioskError(key).help_page() in _pages_named()


def test_an_unregistered_card_is_explained_as_a_card():
    card = KioskError("auth_failed", cause_letter="A", credential="card")
    finger = KioskError("auth_failed", cause_letter="A")
    for text in (card.cause("ja"), card.remedy("ja")):
        assert "生体" not in text and "指" not in text
    assert "ICカード" in card.cause("ja") and "[認証登録]" in card.remedy("ja")
    assert "biometric" not in (card.cause("en") + card.remedy("en")).lower()
    assert card.help_page() == "card-registration" and finger.help_page() == "finger-tips"
    assert finger.cause("ja") == catalogue()["auth_failed"].cause("A").ja   # fingers keep the seed's text
    assert KioskError("auth_failed", cause_letter="B", credential="card").help_page() is None
    assert card.message("ja") == "認証に失敗しました"                         # the seed's message stays


def test_the_card_paths_raise_with_the_card_texts(demo_kiosk):
    from dakoku_core.demo import DEMO_CARDS
    from dakoku_core.domain.model import PunchKind

    unknown = next(c.card_id for c in DEMO_CARDS if not c.employee_code)
    with pytest.raises(KioskError) as raised:   # the real punch service on a real ledger file
        demo_kiosk[2].punch_with_card(PunchKind.CLOCK_IN, unknown)
    assert (raised.value.key, raised.value.cause_letter, raised.value.credential) == ("auth_failed", "A", "card")
    assert "登録されていない" in raised.value.cause("ja")


def test_lockout_messages_count_what_is_left():
    error = KioskError("manager_locked_out", context={"seconds": 42})
    assert error.message("ja").endswith("(あと42秒)") and "42 s left" in error.message("en")
    assert re.search(r"ロックしています", error.message("ja"))


def test_the_server_serves_the_pages(tmp_path):
    from dakoku_server.app import ServerConfig, create_app

    client = create_app(ServerConfig(db_url=f"sqlite:///{tmp_path / 'server.db'}")).test_client()
    answer = client.get("/help/network")
    assert answer.status_code == 200 and answer.mimetype == "text/html"
    body = answer.get_data(as_text=True)
    assert "サーバーに接続できない" in body and 'charset="utf-8"' in body
    for bad in ("/help/README", "/help/nope", "/help/..%2Fsettings", "/help/Network"):
        assert client.get(bad).status_code == 404, bad
