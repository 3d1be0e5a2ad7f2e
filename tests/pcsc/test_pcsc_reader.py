"""The pyscard adapter against a real pcscd and scripted virtual cards (see conftest.py)."""
from __future__ import annotations

import time

import pytest

from kiosk.ports import CardType, ReaderState

from .harness import EVENT_TIMEOUT, OTHER
from .virtual_card import CONTACT_ATR, CardScript, VirtualCard, felica, mifare, ultralight

pytestmark = pytest.mark.timeout(60)


def tap(card, port, recorder, *, cards=0, errors=0):
    """Insert, wait until the adapter reported ``cards`` events and ``errors`` errors in all, remove."""
    card.insert(port)
    recorder.wait(lambda: len(recorder.cards) >= cards and len(recorder.errors) >= errors,
                  what=f"{cards} card(s) and {errors} error(s)")
    card.remove()


def test_felica_tap_is_one_event_with_id_type_and_reader(pcsc, recorder, start_reader, cards):
    start_reader()
    card = cards(felica("012E4CD8A1B2C3D4"))
    card.insert(pcsc.pasori.port)
    recorder.wait_cards(1)
    event = recorder.cards[0]
    assert (event.card_id, event.card_type, event.reader) == ("012E4CD8A1B2C3D4", CardType.FELICA,
                                                              pcsc.pasori_name)
    assert card.inserted_monotonic <= event.received_monotonic <= recorder.emitted_at[0]
    assert card.apdus == [bytes.fromhex("FFCA000000")]
    recorder.quiet_for(1.0)          # held on the reader: still one tap
    card.remove()
    assert recorder.errors == []


@pytest.mark.parametrize("make, card_id, card_type", [
    (lambda: mifare("04A1B2C3"), "04A1B2C3", CardType.MIFARE),
    (lambda: ultralight("04112233445566"), "04112233445566", CardType.MIFARE),
    (lambda: VirtualCard(CONTACT_ATR, CardScript(uid=bytes.fromhex("11223344"))), "11223344", CardType.OTHER),
])
def test_card_type_comes_from_the_atr(pcsc, recorder, start_reader, cards, make, card_id, card_type):
    start_reader()
    tap(cards(make()), pcsc.pasori.port, recorder, cards=1)
    assert (recorder.cards[0].card_id, recorder.cards[0].card_type) == (card_id, card_type)


def test_error_status_word_is_one_read_error_and_no_event(pcsc, recorder, start_reader, cards):
    start_reader()
    tap(cards(mifare(status_word=b"\x6A\x81")), pcsc.pasori.port, recorder, errors=1)
    tap(cards(felica()), pcsc.pasori.port, recorder, cards=1)      # the loop lives on
    assert len(recorder.errors) == 1 and len(recorder.cards) == 1
    assert recorder.errors[0].key == "card_read_failed" and "6A81" in recorder.errors[0].detail


def test_card_pulled_away_mid_transmit_is_a_read_error_then_next_tap_works(pcsc, recorder, start_reader, cards):
    start_reader()
    dropping = cards(felica(drop_on_apdu=True))
    dropping.insert(pcsc.pasori.port)
    recorder.wait_errors(1)
    assert not dropping.inserted and recorder.cards == []
    pcsc.wait_empty()                # a person lifts the card before tapping again
    tap(cards(felica("0102030405060708")), pcsc.pasori.port, recorder, cards=1)
    assert recorder.cards[0].card_id == "0102030405060708" and len(recorder.errors) == 1


def test_slow_card_still_gives_one_event(pcsc, recorder, start_reader, cards):
    start_reader()
    tap(cards(felica(delay=0.8)), pcsc.pasori.port, recorder, cards=1)
    event = recorder.cards[0]
    assert recorder.emitted_at[0] - event.received_monotonic >= 0.8
    recorder.quiet_for(0.5)


def test_card_that_never_answers_blocks_only_until_removed(pcsc, recorder, start_reader, cards):
    start_reader()
    mute = cards(felica(mute=True))
    mute.insert(pcsc.pasori.port)
    time.sleep(1.0)                  # transmit blocks: vpcd has no timeout, a real reader's driver has
    mute.remove()
    recorder.wait_errors(1)
    tap(cards(felica()), pcsc.pasori.port, recorder, cards=1)


def test_quick_retap_of_the_same_card_is_one_tap(pcsc, recorder, start_reader, cards):
    start_reader(debounce=2.0)
    card = cards(felica("0011223344556677"))
    card.insert(pcsc.pasori.port)
    recorder.wait_cards(1)
    card.remove()
    card.insert(pcsc.pasori.port)    # back within one poll (or just after): the same physical tap
    time.sleep(0.9)
    card.remove()
    other = cards(mifare("04C0FFEE"))
    tap(other, pcsc.pasori.port, recorder, cards=2)   # a different card right after: a new tap
    assert [e.card_id for e in recorder.cards] == ["0011223344556677", "04C0FFEE"]


def test_same_card_after_the_debounce_is_a_new_tap(pcsc, recorder, start_reader, cards):
    start_reader(debounce=0.2)
    card = cards(felica())
    tap(card, pcsc.pasori.port, recorder, cards=1)
    pcsc.wait_empty()                # the removal is seen at the next poll (≤ 0.4 s)
    time.sleep(0.25)                 # ... and the debounce has passed
    tap(card, pcsc.pasori.port, recorder, cards=2)


def test_card_already_on_the_reader_at_start_is_not_a_tap(pcsc, recorder, start_reader, cards):
    card = cards(felica())
    card.insert(pcsc.pasori.port)
    pcsc.wait_card(True)
    start_reader()
    recorder.quiet_for(0.6)
    card.remove()
    pcsc.wait_empty()
    tap(card, pcsc.pasori.port, recorder, cards=1)


def test_reader_is_chosen_by_name_never_the_first(pcsc, recorder, start_reader, cards):
    from kiosk.adapters.pcsc_reader import list_readers

    names = list_readers()
    assert names[0].startswith(OTHER) and pcsc.pasori_name in names
    start_reader()
    assert recorder.statuses[-1].reader == pcsc.pasori_name
    elsewhere = cards(felica("AAAAAAAAAAAAAAAA"))
    elsewhere.insert(pcsc.other.port)
    tap(cards(felica("BBBBBBBBBBBBBBBB")), pcsc.pasori.port, recorder, cards=1)
    assert [e.card_id for e in recorder.cards] == ["BBBBBBBBBBBBBBBB"]


def test_another_pattern_selects_the_other_reader(pcsc, recorder, start_reader, cards):
    start_reader(reader_pattern=r"ACR122U.* 00 01$")
    assert recorder.statuses[-1].reader == pcsc.other.slot_names[1]
    tap(cards(mifare()), pcsc.other.port + 1, recorder, cards=1)


def test_callback_exceptions_do_not_kill_the_loop(pcsc, recorder, cards):
    from kiosk.adapters.pcsc_reader import PcscCardReader

    def exploding(event):
        recorder.on_card(event)
        raise RuntimeError("a listener bug")

    def exploding_status(status):
        recorder.on_status(status)
        raise RuntimeError("another listener bug")

    reader = PcscCardReader(retry_interval=0.2)
    reader.start(exploding, exploding_status)
    try:
        recorder.wait_state(ReaderState.READY)
        tap(cards(felica("0101010101010101")), pcsc.pasori.port, recorder, cards=1)
        tap(cards(felica("0202020202020202")), pcsc.pasori.port, recorder, cards=2)
    finally:
        reader.stop()


def test_stop_cancels_the_wait_at_once(pcsc, recorder, start_reader):
    reader = start_reader()
    thread = reader._thread
    started = time.monotonic()
    reader.stop()
    assert time.monotonic() - started < 1.0 and not thread.is_alive()
    reader.stop()                    # idempotent


def test_pcscd_not_running_at_start_then_recovery(pcsc, recorder, start_reader, cards):
    pcsc.daemon.stop()
    start_reader(wait_ready=False)
    recorder.wait_state(ReaderState.INIT_FAILED)
    assert "SCARD_E_NO_SERVICE" in recorder.statuses[0].detail
    pcsc.daemon.start(pcsc.default)
    recorder.wait_state(ReaderState.READY)
    tap(cards(felica()), pcsc.pasori.port, recorder, cards=1)


def test_pcscd_restart_while_waiting_is_disconnected_then_ready(pcsc, recorder, start_reader, cards):
    start_reader()
    pcsc.daemon.stop()
    recorder.wait_state(ReaderState.DISCONNECTED)
    pcsc.daemon.start(pcsc.default)
    recorder.wait_state(ReaderState.READY, after=2)
    assert [s.state for s in recorder.statuses] == [ReaderState.READY, ReaderState.DISCONNECTED,
                                                    ReaderState.READY]
    tap(cards(felica()), pcsc.pasori.port, recorder, cards=1)


def test_no_matching_reader_then_it_appears(pcsc, recorder, start_reader, cards):
    pcsc.daemon.restart([pcsc.other])            # only a reader we must not use
    start_reader(wait_ready=False)
    recorder.wait_state(ReaderState.INIT_FAILED)
    assert "no reader matching" in recorder.statuses[-1].detail
    cards(felica()).insert(pcsc.other.port)     # a card on the wrong reader is ignored
    pcsc.daemon.restart(pcsc.default)            # the PaSoRi is plugged in
    recorder.wait_state(ReaderState.READY)
    assert recorder.statuses[-1].reader == pcsc.pasori_name
    tap(cards(felica("0F0F0F0F0F0F0F0F")), pcsc.pasori.port, recorder, cards=1)
    assert [e.card_id for e in recorder.cards] == ["0F0F0F0F0F0F0F0F"]


def test_reader_gone_after_ready_is_disconnected_until_it_comes_back(pcsc, recorder, start_reader, cards):
    reader = start_reader()
    pcsc.daemon.restart([pcsc.other])            # pcscd comes back without our reader (unplugged)
    recorder.wait_state(ReaderState.DISCONNECTED)
    deadline = time.monotonic() + EVENT_TIMEOUT
    while "no reader matching" not in reader.status.detail and time.monotonic() < deadline:
        time.sleep(0.02)                         # state changes are reported; the detail is readable
    assert "no reader matching" in reader.status.detail
    assert [s.state for s in recorder.statuses] == [ReaderState.READY, ReaderState.DISCONNECTED]
    pcsc.daemon.restart(pcsc.default)
    recorder.wait_state(ReaderState.READY, after=1)
    tap(cards(felica()), pcsc.pasori.port, recorder, cards=1)


def test_no_readers_at_all_is_init_failed(pcsc, recorder, start_reader):
    from kiosk.adapters.pcsc_reader import list_readers

    pcsc.daemon.restart([])
    assert list_readers() == []
    start_reader(wait_ready=False)
    recorder.wait_state(ReaderState.INIT_FAILED)
    assert "no reader matching" in recorder.statuses[-1].detail


def test_list_readers_without_pcscd_is_device_init_failed(pcsc):
    from kiosk.adapters.pcsc_reader import list_readers
    from dakoku_core.errors import KioskError

    pcsc.daemon.stop()
    with pytest.raises(KioskError) as caught:
        list_readers()
    assert caught.value.key == "device_init_failed"


def test_connect_with_no_card_is_a_transient_result_not_an_exception(pcsc):
    from kiosk.adapters import pcsc_reader

    context = pcsc_reader.establish_context()
    try:
        result = pcsc_reader.read_uid(context, pcsc.pasori_name)
    finally:
        pcsc_reader.release_context(context)
    assert not result.ok and result.transient and "NO_SMARTCARD" in result.failure
