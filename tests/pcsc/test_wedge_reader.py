"""Keyboard-wedge burst detector: pure logic, fed (key, timestamp) pairs. No pcscd needed."""
from __future__ import annotations

import pytest

from kiosk.adapters.wedge_reader import WedgeCardReader, WedgeConfig
from kiosk.ports import CardType, ReaderState


class Keys:
    def __init__(self, config=None):
        self.reader = WedgeCardReader(config)
        self.cards, self.statuses, self.typed = [], [], []
        self.reader.start(self.cards.append, self.statuses.append)
        self.now = 100.0

    def type(self, text, gap, enter=True):
        for key in list(text) + (["enter"] if enter else []):
            self.now += gap
            self.typed += self.reader.feed(key, self.now)

    def idle(self, seconds):
        self.now += seconds
        self.typed += self.reader.flush(self.now)


def test_fast_burst_ending_in_enter_is_one_card_and_is_swallowed():
    keys = Keys()
    keys.type("012e4cd8a1b2c3d4", gap=0.008)
    assert [(c.card_id, c.card_type, c.reader) for c in keys.cards] == [("012E4CD8A1B2C3D4", CardType.OTHER,
                                                                         "keyboard wedge")]
    assert keys.cards[0].received_monotonic == keys.now
    assert keys.typed == [] and keys.statuses[0].state is ReaderState.READY


def test_slow_typing_is_never_stolen():
    keys = Keys()
    keys.type("0123456789", gap=0.15)
    assert keys.cards == [] and keys.typed == list("0123456789") + ["enter"]


def test_held_keys_are_released_by_flush_after_the_gap():
    keys = Keys()
    keys.type("ab", gap=0.01, enter=False)
    assert keys.typed == [] and keys.reader.flush_deadline == pytest.approx(keys.now + 0.05)
    keys.idle(0.03)
    assert keys.typed == []
    keys.idle(0.05)
    assert keys.typed == ["a", "b"] and keys.reader.flush_deadline is None


@pytest.mark.parametrize("text", ["0123", "0123456789ABCDEF0123456789"])
def test_too_short_or_too_long_bursts_are_typing(text):
    keys = Keys()
    keys.type(text, gap=0.005)
    assert keys.cards == [] and keys.typed == list(text) + ["enter"]


def test_characters_outside_the_allowed_set_end_the_burst_and_pass_through():
    keys = Keys()
    keys.type("0123xyz45678", gap=0.005)
    assert keys.cards == [] and keys.typed == list("0123xyz45678") + ["enter"]


def test_special_keys_pass_through_in_order():
    keys = Keys()
    keys.type("12", gap=0.005, enter=False)
    keys.now += 0.005
    keys.typed += keys.reader.feed("backspace", keys.now)
    assert keys.typed == ["1", "2", "backspace"]


def test_a_pause_inside_a_burst_splits_it():
    keys = Keys()
    keys.type("0123", gap=0.005, enter=False)
    keys.now += 0.2                                  # a person, then the card right after
    keys.type("A1B2C3D4", gap=0.005)
    assert [c.card_id for c in keys.cards] == ["A1B2C3D4"] and keys.typed == list("0123")


def test_config_min_max_allowed_gap_and_decimal_ids():
    config = WedgeConfig(min_length=10, max_length=10, allowed="0123456789", max_gap=0.03,
                         id_format="decimal", card_type=CardType.MIFARE, reader_name="RFID wedge")
    keys = Keys(config)
    keys.type("0305419896", gap=0.02)                # 0x12345678
    assert [(c.card_id, c.card_type, c.reader) for c in keys.cards] == [("12345678", CardType.MIFARE,
                                                                         "RFID wedge")]
    keys.type("12345678AB", gap=0.02)                # letters are not allowed in this config
    assert len(keys.cards) == 1 and keys.typed[-1] == "enter"
    with pytest.raises(ValueError):
        WedgeConfig(min_length=5, max_length=4)


def test_a_repeated_burst_of_the_same_card_is_one_tap():
    keys = Keys()
    keys.type("04A1B2C3", gap=0.005)
    keys.type("04A1B2C3", gap=0.005)                 # the wedge repeats while the card stays
    keys.idle(1.5)
    keys.type("04A1B2C3", gap=0.005)                 # a new tap
    assert [c.card_id for c in keys.cards] == ["04A1B2C3", "04A1B2C3"] and keys.typed == []


def test_odd_length_hex_is_padded_and_enter_variants_work():
    keys = Keys(WedgeConfig(min_length=7))
    for enter in ("\r", "\n", "numpadenter"):
        keys.type("ABCDEF1", gap=0.005, enter=False)
        keys.now += 0.005
        keys.typed += keys.reader.feed(enter, keys.now)
        keys.idle(2)
    assert [c.card_id for c in keys.cards] == ["0ABCDEF1"] * 3


def test_a_failing_listener_does_not_break_typing_and_stop_passes_everything():
    reader = WedgeCardReader()
    reader.start(lambda event: 1 / 0, lambda status: None)
    now = 0.0
    for key in "04A1B2C3":
        now += 0.005
        assert reader.feed(key, now) == []
    assert reader.feed("enter", now + 0.005) == []
    reader.stop()
    assert reader.feed("a", now + 1) == ["a"]
