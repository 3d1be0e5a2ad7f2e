"""The three import packages keep their boundaries (issue 13, design.md §3): dakoku_core imports nothing from
kiosk or dakoku_server and no Kivy/KivyMD; dakoku_server imports nothing from kiosk and no Kivy/KivyMD.

Statically (ast, every import, those inside functions too, relative ones resolved) and for real: every module of
dakoku_core and dakoku_server is imported in a clean interpreter, which must end with no kivy, kivymd or kiosk
module loaded."""
from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FORBIDDEN = {
    "dakoku_core": ("kiosk", "dakoku_server", "kivy", "kivymd"),
    "dakoku_server": ("kiosk", "kivy", "kivymd"),
}


def imports_of(source: str, module: str, is_package: bool = False) -> set[str]:
    """Every module ``source`` (the text of ``module``) imports, relative imports made absolute."""
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".")
                base = base[:len(base) - node.level + (1 if is_package else 0)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            found.add(target)
    return found


def violations(package: str, root: Path = ROOT) -> list[str]:
    bad = []
    for path in sorted((root / package).rglob("*.py")):
        rel = path.relative_to(root).with_suffix("")
        is_package = rel.name == "__init__"
        module = ".".join(rel.parts[:-1] if is_package else rel.parts)
        for name in sorted(imports_of(path.read_text("utf-8"), module, is_package)):
            if name.split(".")[0] in FORBIDDEN[package]:
                bad.append(f"{path.relative_to(root)}: {name}")
    return bad


def test_core_and_server_import_across_no_boundary():
    assert violations("dakoku_core") == []
    assert violations("dakoku_server") == []


def test_the_checker_catches_planted_imports(tmp_path):
    core = tmp_path / "dakoku_core" / "fingerprint"
    core.mkdir(parents=True)
    (core / "__init__.py").write_text("from . import matcher\n")
    (core / "matcher.py").write_text("import numpy\n\ndef f():\n    from kiosk.ui import app  # lazy\n")
    (core / "quiet.py").write_text("from .. import errors\n")
    server = tmp_path / "dakoku_server"
    server.mkdir()
    (server / "app.py").write_text("import kivy.clock\nfrom dakoku_core import errors\n")
    assert violations("dakoku_core", tmp_path) == ["dakoku_core/fingerprint/matcher.py: kiosk.ui"]
    assert violations("dakoku_server", tmp_path) == ["dakoku_server/app.py: kivy.clock"]
    assert imports_of("from .. import errors\n", "dakoku_core.fingerprint.quiet") == {"dakoku_core"}
    assert imports_of("from .template import T\n", "dakoku_core.fingerprint", is_package=True) == \
        {"dakoku_core.fingerprint.template"}


WALK = """
import importlib, pkgutil, sys
import dakoku_core, dakoku_server
names = []
for package in (dakoku_core, dakoku_server):
    names += [m.name for m in pkgutil.walk_packages(package.__path__, package.__name__ + ".")]
skipped = []
for name in names:
    try:
        importlib.import_module(name)
    except ImportError as exc:   # an optional backend (PyGObject, psycopg2) is missing here: say which
        if exc.name and exc.name.split(".")[0] in ("kiosk", "kivy", "kivymd", "dakoku_core", "dakoku_server"):
            raise
        skipped.append(name)
bad = sorted(m for m in sys.modules if m.split(".")[0] in ("kivy", "kivymd", "kiosk"))
print(len(names), len(skipped), bad)
"""


def test_core_and_server_modules_load_no_kivy_and_no_kiosk():
    out = subprocess.run([sys.executable, "-c", WALK], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    count, skipped, bad = out.stdout.strip().split(" ", 2)
    assert int(count) >= 80 and int(skipped) <= 2 and bad == "[]", out.stdout


def test_a_kiosk_without_a_fingerprint_sensor_does_not_load_numpy():
    """The kiosk's start (app, composition root, the finger flow's prompts) imports neither numpy nor the matcher:
    about 15 MB and 0.15 s that a kiosk with only a card reader never needs (docs/performance.md)."""
    probe = ("import sys, kiosk.cli, kiosk.app_factory, kiosk.ui.launcher, kiosk.ui.finger_flow; "
             "print(sorted(m for m in sys.modules if m == 'numpy' or m.startswith('dakoku_core.fingerprint')))")
    env_code = ("import os; os.environ.update(KIVY_NO_ARGS='1', KIVY_WINDOW='sdl2', SDL_VIDEODRIVER='offscreen'); ")
    done = subprocess.run([sys.executable, "-c", env_code + probe], capture_output=True, text=True, cwd=ROOT,
                          timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == "[]", done.stdout[-2000:]
