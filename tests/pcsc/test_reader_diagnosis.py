"""NFCポート自己診断 against the real pcscd and virtual cards."""
from __future__ import annotations

import threading
import time

import pytest

from kiosk.adapters.reader_diagnosis import CheckOutcome, diagnose_readers

from .virtual_card import felica, mifare

pytestmark = pytest.mark.timeout(60)


def outcomes(results):
    return {r.name: r.outcome for r in results}


def tap_soon(card, port, delay=0.1):
    threading.Timer(delay, card.insert, args=(port,)).start()


def test_all_checks_pass_with_a_test_read(pcsc, cards):
    card = cards(felica("012E4CD8A1B2C3D4"))
    tap_soon(card, pcsc.pasori.port)
    results = diagnose_readers(test_read=True, tap_timeout=5)
    assert [r.name for r in results] == ["pcsc_service", "readers_found", "configured_reader", "test_read"]
    assert all(r.ok for r in results), results
    read = results[-1]
    assert read.data["card_type"] == "felica" and read.data["card_id"] == "…C3D4"
    assert read.data["atr"].startswith("3B 8F 80 01") and 0 <= read.data["read_ms"] < 1000
    assert results[2].detail == pcsc.pasori_name
    assert "012E4CD8A1B2C3D4" not in repr(results)      # the raw ID is personal data: masked


def test_without_test_read_there_are_three_checks(pcsc):
    assert outcomes(diagnose_readers()) == {"pcsc_service": CheckOutcome.OK, "readers_found": CheckOutcome.OK,
                                            "configured_reader": CheckOutcome.OK}


def test_pcscd_down_fails_first_check_and_skips_the_rest(pcsc):
    pcsc.daemon.stop()
    results = diagnose_readers(test_read=True, tap_timeout=0.2)
    assert outcomes(results) == {"pcsc_service": CheckOutcome.FAIL, "readers_found": CheckOutcome.SKIPPED,
                                 "configured_reader": CheckOutcome.SKIPPED, "test_read": CheckOutcome.SKIPPED}
    assert results[0].remedy_key == "device_init_failed" and "NO_SERVICE" in results[0].detail


def test_no_reader_and_no_matching_reader(pcsc):
    pcsc.daemon.restart([])
    results = diagnose_readers()
    assert (results[1].outcome, results[1].remedy_key) == (CheckOutcome.FAIL, "device_init_failed")
    pcsc.daemon.restart([pcsc.other])
    results = diagnose_readers()
    assert results[1].ok and results[2].outcome is CheckOutcome.FAIL
    assert results[2].remedy_key == "device_init_failed" and results[2].data["readers"]


def test_error_status_word_and_random_uid_fail_with_their_remedies(pcsc, cards):
    card = cards(mifare(status_word=b"\x6A\x81"))
    tap_soon(card, pcsc.pasori.port)
    read = diagnose_readers(test_read=True, tap_timeout=5)[-1]
    assert (read.outcome, read.remedy_key) == (CheckOutcome.FAIL, "card_read_failed")
    assert "6A81" in read.detail and read.data["card_type"] == "mifare"
    card.remove()
    pcsc.wait_empty()
    tap_soon(cards(mifare("08A1B2C3")), pcsc.pasori.port)
    read = diagnose_readers(test_read=True, tap_timeout=5)[-1]
    assert (read.outcome, read.remedy_key) == (CheckOutcome.FAIL, "card_id_unstable")


def test_no_tap_is_skipped_and_cancel_is_prompt(pcsc):
    read = diagnose_readers(test_read=True, tap_timeout=0.3)[-1]
    assert read.outcome is CheckOutcome.SKIPPED and "no card" in read.detail
    cancel = threading.Event()
    threading.Timer(0.2, cancel.set).start()
    started = time.monotonic()
    read = diagnose_readers(test_read=True, tap_timeout=30, cancel=cancel)[-1]
    assert read.outcome is CheckOutcome.SKIPPED and time.monotonic() - started < 2


def test_kiosk_doctor_command_reports_each_check(pcsc, tmp_path, capsys):
    from kiosk.cli import main

    assert main(["doctor", "--data-dir", str(tmp_path), "--reader", "RC-S300"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line[:4] for line in lines] == ["[OK]", "[OK]", "[OK]"]
    assert main(["doctor", "--data-dir", str(tmp_path), "--reader", "NoSuchReader"]) == 1
    out = capsys.readouterr().out
    assert "[NG] 設定されたICカードリーダー" in out and "kiosk doctor" in out   # the remedy follows
