"""Entry point of the frozen kiosk (PyInstaller): the same command line as the ``kiosk`` console script."""
import multiprocessing
import sys

from kiosk.cli import main  # kiosk.logs sends Kivy's records through the kiosk's redacted handlers

if __name__ == "__main__":
    multiprocessing.freeze_support()   # Windows: a frozen child process must not re-run the kiosk
    sys.exit(main())
