"""Child process for the 取り消し SIGKILL test (test_undo_sigkill.py): punches forever and cancels every other
punch at once, printing ``P <uuid>`` after each punch and ``C <uuid> <punch uuid>`` after each correction was
acknowledged (UndoService.cancel returned: the ledger commit), i.e. exactly what the kiosk confirms on screen."""
import sys

from child_ledger import CARDS, open_punching, say
from dakoku_core.domain.model import PunchKind
from kiosk.services.undo import UndoService


def main(path: str) -> None:
    service, punches, clock = open_punching(path)
    undo = UndoService(punches, clock, window_seconds=5, forget=service.forget)
    say("ready")
    i = 0
    while True:
        punch = service.punch_with_card(PunchKind.CLOCK_IN, CARDS[i % 2]).punch
        say(f"P {punch.uuid}")
        if i % 2 == 0:
            correction = undo.cancel(punch)
            say(f"C {correction.uuid} {punch.uuid}")
        i += 1


if __name__ == "__main__":
    main(sys.argv[1])
