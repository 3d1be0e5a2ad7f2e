"""``kiosk`` command line: ``kiosk demo`` (embedded defaults and demo data), ``kiosk run`` (configured)."""
from __future__ import annotations

import argparse
import logging
import subprocess
import sys
from pathlib import Path

from dakoku_core.errors import KioskError
from kiosk.logs import KioskLogs
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
        cmd.add_argument("--windowed", action="store_true",
                         help="a window of display.width × display.height (default 1280×800) instead of full screen")
        cmd.add_argument("--size", type=_size, metavar="WxH",
                         help="a window of this size, e.g. 800x1280 for portrait (with --fullscreen: ignored)")
        cmd.add_argument("--fullscreen", action="store_true",
                         help="full screen at the screen's size, even if display.fullscreen is false")
        cmd.add_argument("--screenshot", type=Path, help="render the standby screen to this PNG and exit")
        if name == "demo":
            cmd.add_argument("--offline", action="store_true",
                             help="no reference server: the demo company is seeded into the ledger")
    doctor = sub.add_parser("doctor", help="self-diagnosis (NFCポート自己診断): PC/SC service, readers, a test read")
    doctor.add_argument("--settings", type=Path, help="settings JSON (default: DATA_DIR/settings.json)")
    doctor.add_argument("--data-dir", type=Path, help="data directory (default: per-user, XDG)")
    doctor.add_argument("--test-read", action="store_true", help="also wait for a card to be tapped and read it")
    doctor.add_argument("--reader", help="reader name pattern (default: from the settings)")
    pin = sub.add_parser("set-manager-pin", help="set the manager password that guards 設定 and registration")
    pin.add_argument("--settings", type=Path, help="settings JSON (default: DATA_DIR/settings.json)")
    pin.add_argument("--data-dir", type=Path, help="data directory (default: per-user, XDG)")
    return parser


def _size(text: str) -> tuple[int, int]:
    from kiosk.ui.window import parse_size   # no kivy import: window.py imports kivy only when configuring

    try:
        return parse_size(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


def _with_window_options(settings, args):
    """--size / --fullscreen / --windowed over the settings file's display section."""
    from dataclasses import replace

    display = settings.display
    if args.fullscreen:
        display = replace(display, fullscreen=True)
    elif args.size is not None:
        display = replace(display, width=args.size[0], height=args.size[1], fullscreen=False)
    elif args.windowed:
        display = replace(display, fullscreen=False)
    return replace(settings, display=display)


def set_manager_pin(settings_path: Path) -> int:
    import getpass

    from dakoku_core.domain.passwords import hash_password
    from kiosk.settings import save_settings_value

    first = getpass.getpass("新しい管理者パスワード (digits, 4-12) / new manager password: ")
    if not (first.isdigit() and 4 <= len(first) <= 12):
        print("The manager password must be 4 to 12 digits (the kiosk has a numeric keypad).", file=sys.stderr)
        return 2
    if getpass.getpass("もう一度 / again: ") != first:
        print("The two entries differ; nothing was changed.", file=sys.stderr)
        return 2
    try:
        save_settings_value(settings_path, "manager_pin_hash", hash_password(first))
    except KioskError as err:
        print(f"[{err.code}] {err.message()} ({err.detail})", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"cannot write {settings_path}: {exc}", file=sys.stderr)
        return 2
    print(f"saved in {settings_path}")
    return 0


def doctor(args) -> int:
    """Print one line per check (OK / NG / --) and, for a failure, the catalogue's remedy."""
    from kiosk.adapters.reader_diagnosis import diagnose_readers
    from dakoku_core.errors import catalogue

    try:
        settings = load_settings(args.settings or (args.data_dir or default_data_dir()) / "settings.json")
        pattern = args.reader or settings.reader.name_pattern
    except KioskError as err:
        print(f"[NG] settings: [{err.code}] {err.message()} ({err.detail})")
        return 1
    if args.test_read:
        print("ICカードをリーダーにかざしてください / tap a card on the reader (15 s)", flush=True)
    failed = False
    for check in diagnose_readers(pattern, test_read=args.test_read):
        mark = {"ok": "OK", "fail": "NG", "skipped": "--"}[check.outcome.value]
        failed |= check.outcome.value == "fail"
        print(f"[{mark}] {check.label.get()}" + (f": {check.detail}" if check.detail else ""))
        if check.remedy_key and check.outcome.value == "fail":
            print("     " + catalogue()[check.remedy_key].remedy().get().replace("\n", "\n     "))
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "doctor":
        return doctor(args)
    if args.command == "set-manager-pin":
        return set_manager_pin(args.settings or (args.data_dir or default_data_dir()) / "settings.json")
    logs = KioskLogs()   # stderr now, DATA_DIR/logs once the data directory is known; redacted (kiosk/logs.py)
    try:
        return _start(args, logs)
    finally:
        logs.stop()


def _start(args, logs: KioskLogs) -> int:
    demo = args.command == "demo"
    # The offline demo keeps its own data: the connected demo's folder holds a connection to its server.
    demo_dir = "demo-offline" if demo and args.offline else "demo"
    data_dir = args.data_dir or (default_data_dir() / demo_dir if demo else default_data_dir())
    settings_path = args.settings or data_dir / "settings.json"
    try:
        overrides = ({"demo": True, "reader": {"backend": "simulated"}, "fingerprint": {"backend": "simulated"}}
                     if demo else {})
        settings = _with_window_options(load_settings(
            settings_path, data_dir=str(data_dir) if (args.data_dir or demo) else None, **overrides), args)
    except KioskError as err:
        logs.to_files(data_dir)
        # Said on the terminal and on the screen: a kiosk has nobody reading its terminal.
        print(f"[{err.code}] {err.message()}\n{err.cause()}\n{err.remedy()}\n({err.detail})", file=sys.stderr)
        from kiosk.ui.launcher import show_startup_error

        return show_startup_error(err, windowed=args.windowed or args.size is not None, screenshot=args.screenshot,
                                  size=None if args.fullscreen else args.size)
    logs.to_files(settings.data_dir)
    from kiosk.ui.launcher import run_app  # Kivy is imported only when a window is wanted

    server = _start_demo_server(settings.data_dir) if demo and not args.offline else None
    try:
        return run_app(settings, windowed=not settings.display.fullscreen, screenshot=args.screenshot)
    finally:
        if server is not None:
            server.stop()


def _start_demo_server(data_dir: Path):
    """The reference server on loopback with the demo company, this kiosk provisioned to it."""
    from kiosk.demo_server import server_available, start_demo_server

    if not server_available():
        log.warning("server extras not installed: offline demo (pip install -e '.[server]')")
        return None
    try:
        server = start_demo_server(data_dir)
    except (RuntimeError, OSError, subprocess.SubprocessError) as exc:
        log.error("demo server not started (%s): the kiosk runs offline", exc)
        return None
    log.info("demo server at %s (log: %s)", server.url, data_dir / "server" / "server.log")
    return server


if __name__ == "__main__":
    sys.exit(main())
