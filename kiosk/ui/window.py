"""Window and Kivy configuration. Must run before kivy (or kivymd) is first imported."""
from __future__ import annotations

import os
import sys

from kiosk.settings import DisplaySettings


def configure_kivy(display: DisplaySettings, *, windowed: bool) -> None:
    if "kivy" in sys.modules:
        raise RuntimeError("configure_kivy() must run before kivy is imported")
    # Never Kivy's x11 window provider: when it fails it exits the process with status 102.
    os.environ.setdefault("KIVY_WINDOW", "sdl2")
    os.environ.setdefault("KIVY_NO_ARGS", "1")
    os.environ.setdefault("KIVY_CLIPBOARD", "sdl2")
    from kivy.config import Config

    Config.set("kivy", "exit_on_escape", "0")        # a kiosk: Escape does not quit
    # Physical keys, Ctrl+V and barcode readers reach text fields; no Kivy virtual keyboard pops up over the
    # form ("dock" ignored physical keys): the kiosk's own on-screen keys do the typing (kiosk.ui.connection_form).
    Config.set("kivy", "keyboard_mode", "system")
    # One input provider: SDL2's (touch and mouse). Kivy's default also probes /dev/input through sysfs,
    # and a Linux touchscreen then reports every touch twice (a keypad digit typed twice).
    for option in list(Config.options("input")):
        Config.remove_option("input", option)
    Config.set("input", "mouse", "mouse,disable_multitouch")
    Config.set("graphics", "width", str(display.width))
    Config.set("graphics", "height", str(display.height))
    Config.set("graphics", "fullscreen", "0" if windowed or not display.fullscreen else "auto")
    Config.set("graphics", "resizable", "1" if windowed else "0")
