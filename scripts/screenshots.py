#!/usr/bin/env python
"""Render every kiosk screen and the error presenter into docs/screenshots/<name>_<W>x<H>.png.

    .venv/bin/python scripts/screenshots.py              # all sizes: 1280x800, 800x1280 (+ standby at 1920x1080)
    .venv/bin/python scripts/screenshots.py --size 800x1280 [--only standby]

A developer tool: it drives the real app on the demo data exactly as the UI tests do (tests/kivy_harness.py:
real touches, frames advanced), in one process per window size, because an offscreen SDL window only renders
within the size it was created with. Works without a display (SDL's offscreen driver) and under xvfb-run.
The error dialogs for 004/005/012 are shown with their cause and remedy open, as 詳細 shows them; the
unregistered card and the manager lockout come from their real causes (a tap of the demo's unknown card, six
wrong manager PINs). As `scripts/demo.sh` does, the reference server runs on loopback over TLS with the demo
company and the kiosk is provisioned to it (so 認証登録 and 出勤状況 work, and the error dialogs' QR codes open its
/help/ pages); --offline renders the offline demo instead (QR codes then point at https://127.0.0.1:8443/help/)."""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "screenshots"
SIZES = [(1280, 800), (800, 1280), (1920, 1080)]
ONLY_STANDBY = {(1920, 1080)}                     # the full-HD panel: its standby screen is enough
HELP = "https://127.0.0.1:8443/help/"
ERRORS = [("004", "connect_failed", "DATA_UPDATE"), ("005", "timeout", "DATA_UPDATE"),
          ("012", "certificate_invalid", None)]


def _environment() -> None:
    """As tests/conftest.py: before anything imports kivy."""
    os.environ.setdefault("KIVY_WINDOW", "sdl2")
    os.environ.setdefault("KIVY_HOME", tempfile.mkdtemp(prefix="kivy-home-"))
    for name in ("KIVY_NO_ARGS", "KIVY_NO_CONSOLELOG", "KIVY_NO_FILELOG"):
        os.environ.setdefault(name, "1")
    os.environ.setdefault("KIVY_CLIPBOARD", "sdl2")
    os.environ.setdefault("KIVY_LOG_MODE", "PYTHON")
    sys.path[:0] = [str(ROOT), str(ROOT / "tests")]


class Shots:
    def __init__(self, window, size: tuple[int, int]):
        self.window, self.suffix, self.saved = window, f"{size[0]}x{size[1]}", []

    def __call__(self, app, name: str) -> None:
        from kivy_harness import advance, wait_until

        advance(6)
        wait_until(lambda: not app.manager.transition.is_active)
        advance(20)                                # KivyMD's colour animations settle
        target = OUT / f"{name}_{self.suffix}.png"
        with tempfile.TemporaryDirectory() as tmp:
            shutil.move(self.window.screenshot(name=str(Path(tmp) / "shot.png")), target)
        _shrink(target)
        self.saved.append(target.name)


def _shrink(path: Path) -> None:
    """An adaptive 256-colour palette: the screens are flat colours and anti-aliased text (a third of the size)."""
    from PIL import Image

    with Image.open(path) as image:
        small = image.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    small.save(path, optimize=True)


def _back_to_standby(app) -> None:
    from kivy_harness import touch, wait_until

    if app.manager.current == "settings":
        touch(app.settings_screen.ids.close_button)
    elif app.manager.current != "standby":
        touch(app.punch_screen.ids.back_button if app.manager.current == "punch" else
              app.password_screen.ids.back_button)
    wait_until(lambda: app.manager.current == "standby")


def standby_and_punch(app, shot) -> None:
    from dakoku_core.demo import DEMO_CARDS
    from dakoku_core.domain.model import PunchKind
    from kivy_harness import touch, wait_until

    shot(app, "standby")
    touch(app.standby.punch_button(PunchKind.CLOCK_IN))
    shot(app, "punch_wait")
    app.kiosk.reader.tap(next(c.card_id for c in DEMO_CARDS if c.employee_code == "1001"))
    wait_until(lambda: app.punch_screen.phase == "done")
    shot(app, "punch_done")                        # the confirmation, with 取り消し offered
    wait_until(lambda: app.manager.current == "standby", timeout=20)
    wait_until(lambda: "山田" in app.standby.history_text)
    shot(app, "standby_history")


def password_screens(app, shot) -> None:
    from dakoku_core.domain.model import PunchKind
    from kivy_harness import touch, wait_until

    touch(app.standby.punch_button(PunchKind.CLOCK_OUT))
    touch(app.punch_screen.ids.password_button)
    shot(app, "password_digits")
    touch(app.password_screen.ids.letters_button)
    shot(app, "password_letters")
    touch(app.password_screen.ids.list_button)
    wait_until(lambda: len(app.password_screen.picker.ids.rows.children) > 0)
    shot(app, "password_list")
    _back_to_standby(app)
    touch(app.standby.ids.timecard_button)
    shot(app, "timecard_wait")
    _back_to_standby(app)
    touch(app.standby.ids.help_button)
    shot(app, "help_wait")
    _back_to_standby(app)


def settings_screens(app, shot) -> None:
    from kiosk.ui.manager_flow import SECTIONS
    from kivy_harness import advance, touch
    from registration_screens import open_settings

    touch(app.standby.ids.settings_button)
    shot(app, "manager_pin")
    _back_to_standby(app)
    open_settings(app)
    for section in SECTIONS:
        touch(app.settings_screen._section_buttons[section])
        advance(10)
        shot(app, f"settings_{section}")
    diagnosis_results(app, shot)
    credentials_of_yamada(app, shot)
    _back_to_standby(app)


def diagnosis_results(app, shot) -> None:
    """自己診断 after 診断を実行: every check's verdict (the demo server's; a simulated reader has nothing to probe)."""
    from kivy_harness import advance, touch, wait_until

    screen = app.settings_screen
    touch(screen._section_buttons["diagnosis"])
    touch(screen.ids.actions.children[-1])                      # 診断を実行
    wait_until(lambda: screen.notice == "" and len(screen.ids.rows.children) >= 2, timeout=60)
    advance(5)
    shot(app, "settings_diagnosis_results")


def credentials_of_yamada(app, shot) -> None:
    """認証情報 › ヤ › 山田: the cards and fingers registered to him, each with 削除."""
    from kiosk.ui.manager_credentials import CredentialItem
    from kivy_harness import advance, touch, wait_until

    touch(app.settings_screen._section_buttons["credentials"])
    page = app.manager_flow.pages["credentials"]
    wait_until(lambda: page.picker is not None and page.picker.parent is not None, timeout=30)
    advance(3)
    touch(page.picker.row_button("ヤ"))
    touch(page.picker.name_button("山田"))
    wait_until(lambda: any(isinstance(r, CredentialItem) for r in app.settings_screen.ids.rows.children), timeout=30)
    shot(app, "settings_credentials_list")


def errors(app, shot) -> None:
    from dakoku_core.demo import DEMO_CARDS
    from dakoku_core.domain.model import PunchKind
    from dakoku_core.errors import KioskError, Situation
    from kiosk.ui.error_presenter import ErrorPresenter
    from kivy_harness import advance, touch, wait_until

    if app.help_base() is None:                                     # the offline demo
        app.presenter = ErrorPresenter(help_base=lambda: HELP)
    for code, key, situation in ERRORS:
        app.presenter.show(KioskError(key, situation=situation and Situation[situation]), details=True)
        shot(app, f"error_{code}")
        app.presenter.dismiss()
        advance(3)
    touch(app.standby.punch_button(PunchKind.CLOCK_IN))            # the demo's unregistered card
    app.kiosk.reader.tap(next(c.card_id for c in DEMO_CARDS if not c.employee_code))
    wait_until(lambda: app.presenter.is_open)
    shot(app, "error_unregistered_card")
    touch(app.presenter.dialog.ids.details_button)                   # 詳細: cause A and its remedy
    shot(app, "error_unregistered_card_details")
    app.presenter.dismiss()
    advance(3)
    _back_to_standby(app)
    touch(app.standby.ids.settings_button)                          # five wrong manager PINs, then the lock
    for _ in range(6):
        app.manager_flow.submit_pin("9999")
        wait_until(lambda: app.presenter.is_open)
        if app.presenter.current.key == "manager_locked_out":
            break
        app.presenter.dismiss()
        advance(2)
    shot(app, "error_manager_locked_out")
    app.presenter.dismiss()
    advance(3)


def render(size: tuple[int, int], only: set[str] | None, offline: bool) -> list[str]:
    _environment()
    from kiosk.settings import DisplaySettings
    from kiosk.ui.window import configure_kivy

    configure_kivy(DisplaySettings(fullscreen=False, width=size[0], height=size[1]), windowed=True)
    from kivy.base import EventLoop
    from kivy.core.window import Window
    from kiosk.demo_server import start_demo_server
    from kivy_harness import advance, running_app, wait_until

    EventLoop.ensure_window()
    Window.size = size
    advance(3)
    OUT.mkdir(parents=True, exist_ok=True)
    shot = Shots(Window, size)
    steps = [standby_and_punch, password_screens, settings_screens, errors]
    if only:
        steps = [s for s in steps if s.__name__ in only]
    with tempfile.TemporaryDirectory(prefix="dakoku-shots-") as tmp:
        server = None if offline else start_demo_server(Path(tmp))
        try:
            # as a kiosk runs: 取り消し offered for 5 s, errors on the punch path close after 8 s
            with running_app(Window, Path(tmp), undo_seconds=5, confirmation_seconds=6, error_seconds=8) as app:
                wait_until(lambda: app.kiosk.master.recorder() is not None, timeout=60)   # the data pulled
                advance(5)
                for step in steps:
                    step(app, shot)
        finally:
            if server is not None:
                server.stop()
    return shot.saved


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", help="one window size, e.g. 800x1280 (default: each size in its own process)")
    parser.add_argument("--only", action="append", help="a step: standby_and_punch, password_screens, "
                        "settings_screens, errors (repeatable)")
    parser.add_argument("--offline", action="store_true", help="the offline demo: no reference server")
    args = parser.parse_args(argv)
    if args.size:
        width, height = (int(v) for v in args.size.lower().split("x"))
        only = {"standby_and_punch"} if (width, height) in ONLY_STANDBY and not args.only else args.only
        saved = render((width, height), set(only) if only else None, args.offline)
        print("\n".join(f"docs/screenshots/{name}" for name in saved))
        return 0
    failed = 0
    for width, height in SIZES:
        command = [sys.executable, __file__, "--size", f"{width}x{height}"] + (["--offline"] if args.offline else [])
        for step in args.only or []:
            command += ["--only", step]
        failed |= subprocess.run(command, cwd=ROOT).returncode
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
