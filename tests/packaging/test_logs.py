"""Issue 13, logs: rotating files in the data directory, and no card ID, password, template or timecard token in
them (kiosk/logs.py, with the rules of dakoku_core/redaction.py that the server's log uses too)."""
from __future__ import annotations

import logging
from pathlib import Path

import pytest

from kiosk.app_factory import build_kiosk
from dakoku_core.demo import DEMO_PASSWORD, demo_card
from dakoku_core.domain.model import PunchKind
from dakoku_core.errors import KioskError
from kiosk.logs import BACKUPS, LOG_FILE, KioskLogs
from dakoku_core.redaction import CARD, redact, redact_timecard
from kiosk.settings import load_settings

WRONG_PASSWORD = "86420975"


def log_text(data_dir: Path) -> str:
    return "\n".join(p.read_text("utf-8") for p in sorted((data_dir / "logs").glob(LOG_FILE + "*")))


def messages(text: str) -> list[str]:
    """Each line's message (after 'LEVEL name: '), so the time stamp's digits are not taken for a password."""
    return [line.split(": ", 1)[1] for line in text.splitlines() if ": " in line]


def test_punching_with_card_and_password_leaves_no_raw_value_in_the_log(tmp_path, capsys):
    logs = KioskLogs(level=logging.DEBUG)   # the most talkative level: libraries' debug lines included
    assert logs.to_files(tmp_path) == tmp_path / "logs" / LOG_FILE
    settings = load_settings(None, data_dir=str(tmp_path), demo=True, reader={"backend": "simulated"},
                             fingerprint={"backend": "none"})
    kiosk = build_kiosk(settings)
    card = demo_card("normal").card_id
    try:
        kiosk.punch_service.punch_with_card(PunchKind.CLOCK_IN, card)
        with pytest.raises(KioskError) as wrong:
            kiosk.punch_service.punch_with_password(PunchKind.CLOCK_IN, "sato", WRONG_PASSWORD)
        logging.getLogger("kiosk.ui.punch_flow").info("punch refused: %s", wrong.value)
        kiosk.punch_service.punch_with_password(PunchKind.CLOCK_IN, "sato", DEMO_PASSWORD)
        # What a careless line would leak, through the real handlers: the card in a message, in an
        # exception's text (the traceback), and a password and a template written as values.
        reader_log = logging.getLogger("kiosk.adapters.pcsc_reader")
        reader_log.info("card %s read on %s", card, "Sony FeliCa Port/PaSoRi 4.0 00 00")
        try:
            raise ValueError(f"unknown card {card} (password={DEMO_PASSWORD})")
        except ValueError:
            reader_log.exception("card callback failed")
        reader_log.debug("enrolment template=%s sealed %r", "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo0NTY3", b"\x01" * 40)
    finally:
        kiosk.close()
        logs.stop()
    text, stderr = log_text(tmp_path), capsys.readouterr().err
    for where in (text, stderr):
        assert card not in where and WRONG_PASSWORD not in where
        assert not [m for m in messages(where) if DEMO_PASSWORD in m]
        assert "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo0NTY3" not in where and "\\x01" not in where
        assert f"card {CARD} read on Sony FeliCa Port/PaSoRi 4.0 00 00" in where   # the line is there, redacted
        assert "Traceback" in where and f"ValueError: unknown card {CARD}" in where


def test_the_files_rotate_within_their_size_bound(tmp_path, monkeypatch):
    monkeypatch.setattr("kiosk.logs.MAX_BYTES", 2_000)
    logs = KioskLogs()
    try:
        logs.to_files(tmp_path)
        for n in range(400):
            logging.getLogger("kiosk.test").info("line %04d of a long enough message to fill the files", n)
    finally:
        logs.stop()
    files = sorted((tmp_path / "logs").iterdir())
    assert [f.name for f in files] == [LOG_FILE] + [f"{LOG_FILE}.{n}" for n in range(1, BACKUPS + 1)]
    assert all(f.stat().st_size <= 2_000 for f in files)
    assert "line 0399" in (tmp_path / "logs" / LOG_FILE).read_text()


def test_a_data_directory_that_cannot_hold_logs_is_said_not_raised(tmp_path, capsys):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    logs = KioskLogs()
    try:
        assert logs.to_files(blocker / "data") is None
    finally:
        logs.stop()
    assert "no log files in" in capsys.readouterr().err


def test_stop_removes_what_the_kiosk_installed():
    before = list(logging.getLogger().handlers)
    logs = KioskLogs()
    logs.stop()
    assert logging.getLogger().handlers == before


@pytest.mark.parametrize("raw, kept", [
    ("card 0123456789ABCDE1 tapped", "card [card] tapped"),                      # FeliCa IDm
    ("uid 04:A2:3B:1C:5D:6E:7F", "uid [card]"),                                  # MIFARE, colons
    ("ATR 3B 8F 80 01 80 4F 0C A0 00 00 03 06", "ATR [card]"),                   # pyscard's toHexString
    ("wedge read 0012345678", "wedge read [card]"),                              # a decimal wedge ID
    ("punch 3f2b8c1a-1d2e-4f3a-9b8c-7d6e5f4a3b2c sent", "punch 3f2b8c1a-1d2e-4f3a-9b8c-7d6e5f4a3b2c sent"),
    ('{"password": "pw 1", "pin": 0000}', '{"password": [redacted], "pin": [redacted]}'),
    ("GET /timecard/Zx81_token?x=1 200", "GET /timecard/[redacted]?x=1 200"),
    ("/work/main/kiosk/adapters/ledger/db.py line 120", "/work/main/kiosk/adapters/ledger/db.py line 120"),
    ("recorder R001 department HQ, 3 punches pending", "recorder R001 department HQ, 3 punches pending"),
    ("template b'\\x01\\x9f\\x00' sealed", "template [data] sealed"),                    # binary bytes
    ("Unable to load ok.wav: b'Couldn\\'t open ok.wav'", "Unable to load ok.wav: b'Couldn\\'t open ok.wav'"),
])
def test_redaction_rules(raw, kept):
    assert redact(raw) == kept
    assert redact(kept) == kept   # idempotent


def test_the_server_uses_the_same_timecard_rule():
    from dakoku_server.log_redaction import redact as server_redact

    assert server_redact is redact_timecard
