"""``kiosk`` command line: ``kiosk demo`` (embedded defaults and demo data), ``kiosk run`` (configured)."""
from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from kiosk.errors import KioskError
from kiosk.settings import default_data_dir, load_settings

log = logging.getLogger("kiosk")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kiosk", description="Dakoku kiosk time recorder")
    sub = parser.add_subparsers(dest="command", required=True)
    for name, help_text in (("demo", "run the demo: local ledger, demo employees, simulated card reader"),
                            ("run", "run the kiosk with the settings file")):
        cmd = sub.add_parser(name, help=help_text)
        cmd.add_argument("--settings", type=Path, help="settings JSON (default: DATA_DIR/settings.json)")
        cmd.add_argument("--data-dir", type=Path, help="data directory (default: per-user, XDG)")
        cmd.add_argument("--windowed", action="store_true", help="a 1280×800 window instead of full screen")
        cmd.add_argument("--screenshot", type=Path, help="render the standby screen to this PNG and exit")
    pin = sub.add_parser("set-manager-pin", help="set the manager password that guards 設定 and registration")
    pin.add_argument("--settings", type=Path, help="settings JSON (default: DATA_DIR/settings.json)")
    pin.add_argument("--data-dir", type=Path, help="data directory (default: per-user, XDG)")
    return parser


def set_manager_pin(settings_path: Path) -> int:
    import getpass

    from kiosk.domain.passwords import hash_password
    from kiosk.settings import save_settings_value

    first = getpass.getpass("新しい管理者パスワード (digits, 4-12) / new manager password: ")
    if not (first.isdigit() and 4 <= len(first) <= 12):
        print("The manager password must be 4 to 12 digits (the kiosk has a numeric keypad).", file=sys.stderr)
        return 2
    if getpass.getpass("もう一度 / again: ") != first:
        print("The two entries differ; nothing was changed.", file=sys.stderr)
        return 2
    save_settings_value(settings_path, "manager_pin_hash", hash_password(first))
    print(f"saved in {settings_path}")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "set-manager-pin":
        return set_manager_pin(args.settings or (args.data_dir or default_data_dir()) / "settings.json")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("peewee").setLevel(logging.WARNING)
    demo = args.command == "demo"
    data_dir = args.data_dir or (default_data_dir() / "demo" if demo else default_data_dir())
    settings_path = args.settings or data_dir / "settings.json"
    try:
        settings = load_settings(settings_path, demo=demo or None,
                                 data_dir=str(data_dir) if (args.data_dir or demo) else None)
    except KioskError as err:
        print(f"[{err.code}] {err.message()}\n{err.cause()}\n{err.remedy()}\n({err.detail})", file=sys.stderr)
        return 2
    from kiosk.ui.launcher import run_app  # Kivy is imported only when a window is wanted

    return run_app(settings, windowed=args.windowed, screenshot=args.screenshot)


if __name__ == "__main__":
    sys.exit(main())
