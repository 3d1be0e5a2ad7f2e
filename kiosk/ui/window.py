"""Window and Kivy configuration. Must run before kivy (or kivymd) is first imported.

Full screen works with and without a window manager: the window is created at the size of the screen, at its
top-left corner, without borders (on plain X, SDL's full screen alone leaves the X window at the configured size
while Kivy lays out for the whole screen). A window manager then only confirms the full-screen state.

Touch targets are sized in millimetres (:data:`MIN_TARGET_MM`); pixels per millimetre come from the display's DPI
as SDL reports it, or :data:`DEFAULT_DPI` (96, X's usual figure) when it reports none (Xvfb, some panels' EDID)."""
from __future__ import annotations

import ctypes
import glob
import logging
import math
import os
import sys
from dataclasses import dataclass
from importlib.util import find_spec

from kiosk.settings import DisplaySettings

log = logging.getLogger(__name__)
DEFAULT_DPI = 96.0
MIN_TARGET_MM = 12.0      # a finger's width: the smallest touch target
MIN_TEXT_MM = 5.0         # the status line's glyphs, readable at arm's length
_SDL_INIT_VIDEO = 0x20
_screen: "ScreenInfo | None" = None


@dataclass(frozen=True)
class ScreenInfo:
    width: int
    height: int
    dpi: float | None = None    # None: the display did not say


@dataclass(frozen=True)
class WindowPlan:
    width: int
    height: int
    fullscreen: bool
    resizable: bool


def parse_size(text: str) -> tuple[int, int]:
    """``"800x1280"`` → (800, 1280); ValueError for anything else, or outside display.width/height's range."""
    width, sep, height = text.lower().replace("×", "x").partition("x")
    if not sep or not width.strip().isdigit() or not height.strip().isdigit():
        raise ValueError(f"{text!r} is not WIDTHxHEIGHT, e.g. 1280x800")
    size = int(width), int(height)
    if not (320 <= size[0] <= 7680 and 240 <= size[1] <= 4320):
        raise ValueError(f"{text!r}: the width must be 320 to 7680 pixels, the height 240 to 4320")
    return size


def plan_window(display: DisplaySettings, *, windowed: bool, screen: ScreenInfo | None) -> WindowPlan:
    """Windowed: the settings' size. Full screen: the screen's size (the settings' if the screen is unknown)."""
    if windowed or not display.fullscreen:
        return WindowPlan(display.width, display.height, fullscreen=False, resizable=True)
    if screen is None:
        return WindowPlan(display.width, display.height, fullscreen=True, resizable=False)
    return WindowPlan(screen.width, screen.height, fullscreen=True, resizable=False)


def probe_screen() -> ScreenInfo | None:
    """The first display's size and DPI through the SDL that Kivy bundles, before any window exists."""
    try:
        spec = find_spec("kivy")
        libs = glob.glob(os.path.join(os.path.dirname(spec.origin), os.pardir, "Kivy.libs", "libSDL2-2*"))
        sdl = ctypes.CDLL(libs[0]) if libs else ctypes.CDLL("libSDL2-2.0.so.0")
    except (OSError, AttributeError, TypeError):
        return None
    if sdl.SDL_Init(_SDL_INIT_VIDEO) != 0:
        return None
    try:
        mode = (ctypes.c_int * 6)()   # SDL_DisplayMode: format, w, h, refresh_rate, driverdata (padded)
        if sdl.SDL_GetDesktopDisplayMode(0, mode) != 0 or mode[1] <= 0 or mode[2] <= 0:
            return None
        ddpi, hdpi, vdpi = ctypes.c_float(), ctypes.c_float(), ctypes.c_float()
        known = sdl.SDL_GetDisplayDPI(0, ctypes.byref(ddpi), ctypes.byref(hdpi), ctypes.byref(vdpi)) == 0
        dpi = hdpi.value if known and 40 <= hdpi.value <= 600 else None
        return ScreenInfo(mode[1], mode[2], dpi)
    finally:
        sdl.SDL_QuitSubSystem(_SDL_INIT_VIDEO)


def display_dpi() -> float:
    """The DPI the kiosk sizes touch targets for: the display's, or :data:`DEFAULT_DPI` when unknown."""
    return (_screen.dpi if _screen is not None and _screen.dpi else None) or DEFAULT_DPI


def mm_to_px(mm: float, dpi: float | None = None) -> int:
    return math.ceil(mm / 25.4 * (dpi or display_dpi()))


def configure_kivy(display: DisplaySettings, *, windowed: bool) -> WindowPlan:
    global _screen
    if "kivy" in sys.modules:
        raise RuntimeError("configure_kivy() must run before kivy is imported")
    # Never Kivy's x11 window provider: when it fails it exits the process with status 102.
    os.environ.setdefault("KIVY_WINDOW", "sdl2")
    os.environ.setdefault("KIVY_NO_ARGS", "1")
    os.environ.setdefault("KIVY_CLIPBOARD", "sdl2")
    # SDL would turn SIGINT/SIGTERM into a window-close request, which a kiosk refuses: Ctrl+C in the demo's
    # terminal and a service manager's SIGTERM could then never stop it. Python handles them (launcher.py).
    os.environ.setdefault("SDL_NO_SIGNAL_HANDLERS", "1")
    _screen = probe_screen() if display.fullscreen and not windowed else None
    plan = plan_window(display, windowed=windowed, screen=_screen)
    log.info("window %dx%d %s (screen: %s)", plan.width, plan.height,
             "full screen" if plan.fullscreen else "windowed", _screen or "not probed")
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
    Config.set("graphics", "width", str(plan.width))
    Config.set("graphics", "height", str(plan.height))
    Config.set("graphics", "resizable", "1" if plan.resizable else "0")
    if plan.fullscreen:
        # Created at the screen's size at (0, 0) without borders: right with or without a window manager.
        Config.set("graphics", "fullscreen", "auto")
        Config.set("graphics", "borderless", "1")
        Config.set("graphics", "position", "custom")
        Config.set("graphics", "left", "0")
        Config.set("graphics", "top", "0")
    else:
        Config.set("graphics", "fullscreen", "0")
        Config.set("graphics", "borderless", "0")
        Config.set("graphics", "position", "auto")
    return plan
