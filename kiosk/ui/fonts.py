"""BIZ UD Gothic (vendored in fonts/, SIL OFL) for every text, so Japanese renders without system fonts."""
from __future__ import annotations

from kiosk.resources import resource_root

FONTS_DIR = resource_root() / "fonts"   # the checkout, or the frozen bundle
MONO = "BIZUDGothic"          # fixed width: the clock's digits do not jitter
PROPORTIONAL = "BIZUDPGothic"


def register_fonts() -> None:
    from kivy.core.text import LabelBase

    for name in (MONO, PROPORTIONAL):
        regular, bold = FONTS_DIR / f"{name}-Regular.ttf", FONTS_DIR / f"{name}-Bold.ttf"
        if not regular.exists():
            raise FileNotFoundError(f"vendored font missing: {regular}")
        LabelBase.register(name=name, fn_regular=str(regular), fn_bold=str(bold))
    # KivyMD's type scale and plain Kivy labels both use "Roboto": point that name at BIZ UD PGothic.
    for alias in ("Roboto", "RobotoMedium", "RobotoLight", "RobotoThin", "RobotoBlack"):
        LabelBase.register(name=alias, fn_regular=str(FONTS_DIR / f"{PROPORTIONAL}-Regular.ttf"),
                           fn_bold=str(FONTS_DIR / f"{PROPORTIONAL}-Bold.ttf"))
