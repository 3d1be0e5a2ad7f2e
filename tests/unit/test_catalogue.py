"""The error catalogue (dakoku_core/data/catalogue.json) against the anchor product's catalogue.

The expected messages below are transcribed by hand from the seed
(``../shared/seeds/000_125edd9b4e2fb69a.txt``, relative to the repo root); when that file is present the
seed is also parsed and compared with the catalogue, so a typo on either side shows up.
"""
from __future__ import annotations

import json
import re
from importlib import resources
from pathlib import Path

import pytest

from dakoku_core import i18n
from dakoku_core.errors import Catalogue, KioskError, Situation, catalogue

SEED = Path(__file__).resolve().parents[2].parent / "shared" / "seeds" / "000_125edd9b4e2fb69a.txt"

# (key, variant, code, exact Japanese message) — every message of the seed, with the row it belongs to.
EXPECTED = [
    ("connection_string_invalid", "default", "000", "接続文字列が正しくありません"),
    ("connect_failed", "default", "004", "データの取得に失敗しました"),
    ("connect_failed", "data_update", "004", "データの更新に失敗しました"),
    ("timeout", "default", "005", "データの取得に失敗しました"),
    ("timeout", "data_update", "005", "データの更新に失敗しました"),
    ("tls_or_proxy_failed", "default", "006", "データの取得に失敗しました"),
    ("tls_or_proxy_failed", "data_update", "006", "データの更新に失敗しました"),
    ("server_error", "default", "007", "データの取得に失敗しました"),
    ("server_error", "data_update", "007", "データの更新に失敗しました"),
    ("settings_unreadable", "default", "010", "データの取得に失敗しました"),
    ("settings_unreadable", "data_update", "010", "データの更新に失敗しました"),
    ("startup_data_missing", "default", "008", "データの取得に失敗しました"),
    ("ip_not_allowed", "default", "009", "アクセス元のIPが許可されていません"),
    ("certificate_invalid", "default", "012", "証明書が正しくありません"),
    ("unexpected", "default", "999", "予期せぬ例外が発生しました"),
    ("unexpected", "data_update", "999", "データの更新に失敗しました"),
    ("reader_disconnected", "default", None, "ICカードリーダーが切断されました。接続を確認してください"),
    ("reader_disconnected", "punch", None, "ICカードリーダーが切断されました。接続を確認後、再度認証してください"),
    ("browser_missing", "default", None, "エラーを特定できません"),
    ("online_only", "default", None, "この機能はオンライン時のみ利用できます"),
    ("server_unreachable", "default", None, "サーバーに接続できませんでした"),
    ("server_unreachable", "connect_failed", None, "サーバーへの接続に失敗しました"),
    ("server_unreachable", "failed", None, "接続に失敗しました"),
    ("server_unreachable", "exception", None, "例外が発生しました"),
    ("credential_duplicate", "default", None, "すでに登録済みの情報です。 重複して登録することはできません"),
    ("password_wrong", "default", None, "パスワードが正しくありません"),
    ("password_empty", "default", None, "パスワードが入力されていません"),
    ("password_punch_not_allowed", "default", None, "パスワードによる打刻が許可されていません"),
    ("login_id_empty", "default", None, "ログインIDまたは従業員コードが入力されていません"),
    ("fingerprint_ambiguous_enter_id", "default", None,
     "一致率の高い複数の従業員が見つかりました。ログインIDまたは従業員コードを入力してから再度認証してください"),
    ("fingerprint_ambiguous_contact_admin", "default", None,
     "一致率の高い複数の従業員が見つかりました。認証情報の再登録が必要ですので、管理者にご連絡ください"),
    ("employee_not_found", "default", None, "該当する従業員が見つかりません"),
    ("already_punched", "default", None, "既に打刻受け付け済みです"),
    ("punch_record_failed", "default", None, "勤務時間の記録に失敗しました"),
    ("punch_record_failed", "save", None,
     "打刻の保存に失敗しました。タイムレコーダーを再立ち上げしてもう一度打刻して下さい"),
    ("credential_registered_to_employee", "default", None, "検出された認証データは「{name}({code})」に登録済みです"),
    ("employee_not_selected", "default", None, "従業員が選択されていません"),
    ("employee_code_empty", "default", None, "従業員コードが入力されていません"),
    ("certificate_invalid_local", "default", None, "証明書が正しくありません"),
    ("break_not_allowed", "default", None, "打刻による休憩が許可されていません"),
    ("before_hire_date", "default", None, "入社日以前の打刻です"),
    ("after_retirement", "default", None, "退社日以降の打刻です"),
    ("enrollment_cancelled", "default", None, "登録用認証データの検出が中止されました"),
    ("enrollment_failed", "default", None, "登録用認証データの生成に失敗しました"),
    ("auth_failed", "default", None, "認証に失敗しました"),
    ("too_many_patterns", "default", None, "認証可能な最大人数を超えています。 管理者にご連絡ください"),
    ("device_init_failed", "default", None,
     "認証機器の初期化に失敗しました。認証機器の接続を確認してタイムレコーダーを再起動して下さい"),
    ("browser_unexpected", "default", None, "予期せぬ例外が発生しました"),
]

DAKOKU_KEYS = {"card_id_unstable", "card_read_failed", "punch_kind_not_selected", "sequence_warning",
               "correction_refused"}
CODES = {"000": "connection_string_invalid", "004": "connect_failed", "005": "timeout",
         "006": "tls_or_proxy_failed", "007": "server_error", "008": "startup_data_missing",
         "009": "ip_not_allowed", "010": "settings_unreadable", "012": "certificate_invalid",
         "999": "unexpected"}
# ペアリングコードで設定 (docs/server.md § Pairing)
DAKOKU_KEYS = DAKOKU_KEYS | {"pairing_input_invalid", "pairing_code_invalid", "pairing_code_expired",
                             "pairing_code_used", "pairing_locked_out", "pairing_pin_mismatch"}
# 設定 › 情報 › ログを書き出す (docs/settings.md)
DAKOKU_KEYS = DAKOKU_KEYS | {"log_export_no_medium", "log_export_medium_full", "log_export_medium_read_only",
                             "log_export_medium_gone", "log_export_no_logs"}
# Seed texts deliberately adapted to this product (the anchor's domain, Windows folders, Windows itself):
# their Japanese is not checked against the seed, only that the seed's cause is kept where required.
ADAPTED = {("device_init_failed", "remedies"), ("connect_failed", "causes"), ("timeout", "causes"), ("tls_or_proxy_failed", "causes"),
           ("server_error", "causes"), ("settings_unreadable", "causes"),
           ("connect_failed", "remedies"), ("timeout", "remedies"), ("tls_or_proxy_failed", "remedies"),
           ("server_error", "remedies"), ("settings_unreadable", "remedies"),
           ("browser_unexpected", "causes"), ("browser_unexpected", "remedies"),
           ("fingerprint_ambiguous_contact_admin", "remedies")}
# The seed's dead links 「(詳細はこちら)」: our remedies drop them and link a docs/remedies page (QR + short URL).
SEED_LINK = re.compile(r"[(（][^()（）]*こちら[^()（）]*[)）]")
SEED_PLACEHOLDERS = {"{name}": "“従業員名”", "{code}": "“従業員コード”"}
SITUATION_WORDS = ("タイムレコーダー起動時", "初期設定時", "接続先変更時", "データ更新時", "認証登録時",
                   "ヘルプ登録時", "打刻時", "ブラウザ起動時")
CODE_PREFIX = re.compile(r"^\d{3}(?: |$)")


@pytest.fixture
def raw_entries() -> list[dict]:
    return json.loads(resources.files("dakoku_core").joinpath("data/catalogue.json").read_text("utf-8"))["entries"]


@pytest.fixture
def english():
    i18n.set_language("en")
    try:
        yield
    finally:
        i18n.set_language("ja")


def _seed_text(ja: str) -> str:
    for placeholder, seed_form in SEED_PLACEHOLDERS.items():
        ja = ja.replace(placeholder, seed_form)
    return ja


# ------------------------------------------------------------------ seed parsing

def _logical_lines(raw_lines: list[str]) -> list[str]:
    """Join the seed's wrapped table cells: a line indented by a space continues a non-blank previous line."""
    out: list[str] = []
    previous_blank = True
    for raw in raw_lines:
        if raw.startswith(" ") and not previous_blank and out:
            out[-1] += raw.lstrip(" ")
        else:
            out.append(raw.strip(" "))
        previous_blank = raw.strip() == ""
    return out


def _strip_code(text: str) -> str:
    return CODE_PREFIX.sub("", text, count=1)


def parse_seed_messages(text: str) -> list[str]:
    """Every message cell of the seed. A message cell ends where the 発生状況 cell starts: either a situation
    word as a later space-separated token of the same line, or a line starting with a situation word, in which
    case the message cell is the lines above it (alternatives separated by single blank lines)."""
    lines = _logical_lines(text.split("\n"))
    messages: list[str] = []
    for i, line in enumerate(lines):
        tokens = line.split(" ")
        hits = [n for n, token in enumerate(tokens) if token in SITUATION_WORDS]
        if not hits:
            continue
        if hits[0] > 0:
            messages.append(_strip_code(" ".join(tokens[:hits[0]])))
            continue
        if i == 0 or not lines[i - 1]:
            continue  # a further situation of a row already seen
        j = i - 1
        while True:
            if re.fullmatch(r"\d{3}", lines[j]):
                break  # the code column of a multi-code row
            messages.append(_strip_code(lines[j]))
            if CODE_PREFIX.match(lines[j]) or j < 2 or lines[j - 1] or not lines[j - 2]:
                break
            j -= 2
    return messages


def _seed_or_skip() -> str:
    if not SEED.exists():
        pytest.skip(f"seed not present at {SEED}")
    return SEED.read_text("utf-8")


def test_seed_parser_finds_the_seed_messages():
    seed_messages = parse_seed_messages(_seed_or_skip())
    expected = {_seed_text(ja) for _, _, _, ja in EXPECTED}
    assert len(seed_messages) >= 40
    assert set(seed_messages) == expected


def test_every_seed_message_is_in_the_catalogue(raw_entries):
    seed_messages = set(parse_seed_messages(_seed_or_skip()))
    catalogue_messages = {_seed_text(t["ja"]) for e in raw_entries for t in e["messages"].values()}
    missing = seed_messages - catalogue_messages
    assert not missing
    seed_rows = {_seed_text(t["ja"]) for e in raw_entries if e["origin"] == "seed" for t in e["messages"].values()}
    assert seed_rows <= seed_messages, seed_rows - seed_messages


def test_seed_causes_and_remedies_are_verbatim(raw_entries):
    joined = SEED_LINK.sub("", "".join(_logical_lines(_seed_or_skip().split("\n"))))
    for entry in raw_entries:
        if entry["origin"] != "seed":
            continue
        for field in ("causes", "remedies"):
            if (entry["key"], field) in ADAPTED:
                continue
            for letter, text in entry[field].items():
                for paragraph in text["ja"].split("\n"):
                    assert paragraph in joined, (entry["key"], field, letter, paragraph)


def test_network_causes_keep_the_seed_cause_and_differ(raw_entries):
    by_key = {e["key"]: e for e in raw_entries}
    causes = {}
    for key in ("connect_failed", "timeout", "tls_or_proxy_failed", "server_error"):
        causes[key] = by_key[key]["causes"]["default"]["ja"]
        assert "サーバーとの通信に失敗した" in causes[key]
    causes["settings_unreadable"] = by_key["settings_unreadable"]["causes"]["default"]["ja"]
    assert "PC上の設定ファイルから情報を取得できなかった" in causes["settings_unreadable"]
    assert "タイムアウト" in causes["timeout"]
    assert len(set(causes.values())) == 5
    remedy = by_key["connect_failed"]["remedies"]["default"]["ja"]
    assert "officestation" not in remedy and "ProgramData" not in remedy
    assert "443" in remedy and "123" in remedy and "データフォルダ" in remedy   # as 設定 › 情報 shows it
    assert "Ctrl+H" not in remedy and "隠し" not in remedy   # no file-manager lessons for a manager at the kiosk


# ------------------------------------------------------------------ the transcribed list

@pytest.mark.parametrize("key,variant,code,ja", EXPECTED)
def test_expected_message_reachable_by_key(key, variant, code, ja):
    entry = catalogue()[key]
    assert entry.code == code
    assert entry.messages[variant].ja == ja
    assert KioskError(key, variant=variant).entry.message(variant).ja == ja


def test_seed_keys_are_exactly_the_expected_ones(raw_entries):
    keys = {e["key"] for e in raw_entries}
    assert len(keys) == len(raw_entries)
    origins = {e["key"]: e["origin"] for e in raw_entries}
    assert {k for k, o in origins.items() if o == "seed"} == {k for k, _, _, _ in EXPECTED}
    assert DAKOKU_KEYS <= {k for k, o in origins.items() if o == "dakoku"}   # our own entries may grow
    assert set(origins.values()) == {"seed", "dakoku"}


def test_every_entry_is_complete(raw_entries):
    valid_situations = {s.value for s in Situation}
    for entry in raw_entries:
        assert "default" in entry["messages"], entry["key"]
        assert entry["situations"] and set(entry["situations"]) <= valid_situations, entry["key"]
        assert entry["causes"] and entry["remedies"], entry["key"]
        assert set(entry["causes"]) == set(entry["remedies"]) or "default" in entry["remedies"], entry["key"]
        for field in ("messages", "causes", "remedies"):
            for name, text in entry[field].items():
                assert text["ja"].strip() and text["en"].strip(), (entry["key"], field, name)
                assert text["ja"] != text["en"], (entry["key"], field, name)
                assert re.search(r"[A-Za-z]{3}", text["en"]), (entry["key"], field, name)
                assert re.search(r"[\u3040-\u30ff\u4e00-\u9fff]", text["ja"]), (entry["key"], field, name)


def test_codes_are_unique_and_as_assigned(raw_entries):
    codes = [e["code"] for e in raw_entries if e["code"] is not None]
    assert len(codes) == len(set(codes))
    assert {e["code"]: e["key"] for e in raw_entries if e["code"] is not None} == CODES
    for code, key in CODES.items():
        assert catalogue().by_code(code).key == key
    with pytest.raises(KeyError):
        catalogue().by_code("001")


def test_duplicate_keys_are_refused(raw_entries):
    with pytest.raises(ValueError):
        Catalogue.from_data(raw_entries + raw_entries[:1])


# ------------------------------------------------------------------ KioskError behaviour

def test_kiosk_error_for_every_key():
    for entry in catalogue():
        error = KioskError(entry.key)
        assert error.code == entry.code
        assert error.message("ja") == entry.messages["default"].format("ja")
        assert error.cause("ja") and error.remedy("ja") and error.message("en")


def test_unknown_key_raises_value_error():
    with pytest.raises(ValueError):
        KioskError("no_such_key")


def test_message_lookup_order_variant_then_situation_then_default():
    fetch, update = "データの取得に失敗しました", "データの更新に失敗しました"
    assert KioskError("connect_failed").message("ja") == fetch
    assert KioskError("connect_failed", situation=Situation.CONNECTION_CHANGE).message("ja") == fetch
    assert KioskError("connect_failed", situation=Situation.DATA_UPDATE).message("ja") == update
    assert KioskError("connect_failed", situation=Situation.DATA_UPDATE, variant="nope").message("ja") == update
    # the variant wins over the situation
    assert KioskError("connect_failed", situation=Situation.DATA_UPDATE, variant="default").message("ja") == fetch
    assert KioskError("connect_failed", situation=Situation.CONNECTION_CHANGE,
                      variant="data_update").message("ja") == update
    assert KioskError("unexpected", situation=Situation.DATA_UPDATE).message("ja") == update
    assert KioskError("unexpected", situation=Situation.BROWSER).message("ja") == "予期せぬ例外が発生しました"
    assert KioskError("reader_disconnected", situation=Situation.PUNCH).message("ja").endswith("再度認証してください")
    assert KioskError("reader_disconnected",
                      situation=Situation.REGISTRATION).message("ja").endswith("接続を確認してください")
    assert KioskError("server_unreachable", variant="exception").message("ja") == "例外が発生しました"


def test_placeholder_message_formats_name_and_code():
    error = KioskError("credential_registered_to_employee", context={"name": "山田太郎", "code": "E0012"})
    assert error.message("ja") == "検出された認証データは「山田太郎(E0012)」に登録済みです"
    english = error.message("en")
    assert "山田太郎" in english and "E0012" in english and "{" not in english
    kind = KioskError("sequence_warning", context={"kind": "退勤"}).message("ja")
    assert "退勤" in kind and "{kind}" not in kind


def test_lettered_causes_pick_the_right_text():
    b = KioskError("auth_failed", cause_letter="B")
    assert b.cause("ja") == "内部で時刻調整中に操作した"
    assert b.remedy("ja") == "しばらく時間をおいてから再度操作してください。"
    c = KioskError("auth_failed", cause_letter="C")
    assert c.cause("ja") == "タイムレコーダーの所属が打刻可能所属として登録されていない"
    assert c.remedy("ja") == "タイムレコーダーの所属に対してヘルプ登録してください。"
    every = KioskError("auth_failed").cause("ja").split("\n")
    assert [line[:3] for line in every] == ["A: ", "B: ", "C: "]
    assert KioskError("enrollment_cancelled", cause_letter="A").remedy("ja") == "再度操作してください。"
    # a single default cause is used whatever the letter
    assert KioskError("timeout", cause_letter="B").cause("ja") == catalogue()["timeout"].causes["default"].ja


def test_english_language_switch(english):
    error = KioskError("connect_failed", situation=Situation.DATA_UPDATE)
    assert i18n.language() == "en"
    assert error.message() == "Failed to update data"
    assert error.cause() == catalogue()["connect_failed"].causes["default"].en
    assert "Failed to update data" in str(error) and "[004]" in str(error)


def test_language_defaults_back_to_japanese():
    # runs after test_english_language_switch in file order: the fixture must have restored "ja"
    assert i18n.language() == "ja"
    assert KioskError("connect_failed").message() == "データの取得に失敗しました"
