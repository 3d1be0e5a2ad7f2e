"""The ``kiosk`` console script. The kiosk's packages come with the distribution's ``kiosk`` extra; a server
installed with ``pip install '.[server]'`` has the script too, and says what is missing instead of a traceback."""
from __future__ import annotations

import importlib.util
import sys

NEEDED = ("kivy", "kivymd", "peewee", "tenacity", "ntplib", "platformdirs", "segno", "budoux")


def missing_packages() -> list[str]:
    return [name for name in NEEDED if importlib.util.find_spec(name) is None]


def main() -> int:
    missing = missing_packages()
    if missing:
        print(f"kiosk: the kiosk's packages are not installed ({', '.join(missing)} missing).\n"
              "Install them with the kiosk extra from the checkout, pip install '.[kiosk]' "
              "(scripts/setup.sh does), or run the PyInstaller bundle.", file=sys.stderr)
        return 2
    from kiosk.cli import main as kiosk_main
    return kiosk_main()
