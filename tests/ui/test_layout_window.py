"""Window size and placement, decided before Kivy starts (no Kivy here): full screen takes the screen's size
(SDL's full screen alone leaves the X window at the configured size when no window manager runs), --size and
--windowed take a window, and touch targets are worked out in millimetres from the DPI."""
from __future__ import annotations

import argparse

import pytest

from kiosk.cli import _parser, _with_window_options
from kiosk.settings import DisplaySettings, Settings
from kiosk.ui.window import DEFAULT_DPI, ScreenInfo, mm_to_px, parse_size, plan_window

FULL_HD = ScreenInfo(1920, 1080)


def test_full_screen_takes_the_screens_size_not_the_settings():
    plan = plan_window(DisplaySettings(fullscreen=True, width=1280, height=800), windowed=False, screen=FULL_HD)
    assert (plan.width, plan.height, plan.fullscreen) == (1920, 1080, True)


def test_full_screen_on_an_unknown_screen_keeps_the_settings_size():
    plan = plan_window(DisplaySettings(fullscreen=True, width=1024, height=600), windowed=False, screen=None)
    assert (plan.width, plan.height, plan.fullscreen) == (1024, 600, True)


def test_windowed_takes_the_settings_size():
    plan = plan_window(DisplaySettings(fullscreen=True, width=800, height=1280), windowed=True, screen=FULL_HD)
    assert (plan.width, plan.height, plan.fullscreen, plan.resizable) == (800, 1280, False, True)


@pytest.mark.parametrize("text, size", [("800x1280", (800, 1280)), ("1920X1080", (1920, 1080)),
                                        ("1280×800", (1280, 800))])
def test_size_option_parses(text, size):
    assert parse_size(text) == size


@pytest.mark.parametrize("text", ["800", "800x", "x600", "wide", "100x100", "8000x600", "-800x600"])
def test_size_option_refuses_nonsense(text):
    with pytest.raises(ValueError):
        parse_size(text)


def _options(*argv: str) -> argparse.Namespace:
    return _parser().parse_args(["demo", *argv])


def test_cli_size_makes_a_window_of_that_size():
    display = _with_window_options(Settings(), _options("--size", "800x1280")).display
    assert (display.width, display.height, display.fullscreen) == (800, 1280, False)


def test_cli_fullscreen_overrides_the_settings_file():
    settings = Settings(display=DisplaySettings(fullscreen=False))
    assert _with_window_options(settings, _options("--fullscreen")).display.fullscreen is True
    assert _with_window_options(Settings(), _options("--windowed")).display.fullscreen is False
    assert _with_window_options(Settings(), _options()).display == Settings().display


def test_cli_refuses_a_bad_size(capsys):
    with pytest.raises(SystemExit):
        _options("--size", "big")
    assert "WIDTHxHEIGHT" in capsys.readouterr().err


def test_twelve_millimetres_in_pixels():
    assert DEFAULT_DPI == 96
    assert mm_to_px(12, 96) == 46 and mm_to_px(12, 149) == 71   # X's default; a 10.1-inch 1280×800 tablet
