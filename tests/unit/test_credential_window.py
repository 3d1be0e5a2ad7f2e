"""The waiting window (kiosk/services/credential_window.py): only what was read during the current wait counts."""
from __future__ import annotations

from kiosk.services.credential_window import WaitingWindow


class FakeClock:
    def __init__(self, now: float = 100.0):
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_nothing_counts_while_no_screen_waits():
    window = WaitingWindow("punch", clock=FakeClock())
    assert not window.is_open and window.opened_at is None
    assert not window.accepts(50.0) and not window.accepts(1e9)


def test_only_what_was_read_since_the_wait_began_counts():
    clock = FakeClock(100.0)
    window = WaitingWindow("punch", clock=clock)
    assert window.open() == 100.0 and window.is_open
    assert not window.accepts(99.999)            # read on the screen before (e.g. delivered late by the bridge)
    assert window.accepts(100.0) and window.accepts(130.0)
    window.close()
    assert not window.accepts(130.0)             # the screen stopped waiting: nothing counts any more


def test_a_new_wait_does_not_take_what_was_read_during_the_previous_one():
    clock = FakeClock(100.0)
    window = WaitingWindow("registration", clock=clock)
    window.open()                                # 1回目: tap the card
    clock.now = 105.0
    window.open()                                # 2回目: tap it again
    assert not window.accepts(104.0) and window.accepts(105.5)


def test_a_wait_may_begin_at_a_read_so_the_next_read_must_follow_it():
    clock = FakeClock(200.0)
    window = WaitingWindow("registration", clock=clock)
    window.open(since=150.0)                     # 2回目 asks for a tap made after the first read (at 150.0)
    assert not window.accepts(149.0) and window.accepts(150.5)
