"""Child process for the SIGKILL durability test: punches forever, printing each acknowledged UUID.

A UUID is printed only after PunchService returned, i.e. after the ledger commit: exactly what the kiosk
would acknowledge on screen."""
import sys

from child_ledger import CARDS, open_punching, say
from dakoku_core.domain.model import PunchKind


def main(path: str) -> None:
    service, _punches, _clock = open_punching(path)
    say("ready")
    i = 0
    while True:
        say(service.punch_with_card(PunchKind.CLOCK_IN, CARDS[i % 2]).punch.uuid)
        i += 1


if __name__ == "__main__":
    main(sys.argv[1])
