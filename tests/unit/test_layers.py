"""The layers hold: domain ← ports ← services ← adapters / ui, and Kivy stays in kiosk/ui.

Read with ``ast`` from the source files (nothing is imported), so an import inside a function, or one that only
runs under ``TYPE_CHECKING``, counts like any other. The checker is tested on small synthetic sources first, so a
rule that stopped catching anything would fail here too."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
KIVY = ("kivy", "kivymd")

# (the package a module is in, what it must not import)
RULES: list[tuple[str, tuple[str, ...]]] = [
    ("dakoku_core.domain", ("kiosk.ports", "kiosk.services", "kiosk.adapters", "kiosk.ui", *KIVY)),
    # the rest of the shared core (the server installs it without the kiosk)
    ("dakoku_core.protocol", ("kiosk.ports", "kiosk.services", "kiosk.adapters", "kiosk.ui", *KIVY)),
    ("dakoku_core.fingerprint", ("kiosk.services", "kiosk.adapters", "kiosk.ui", *KIVY)),
    ("kiosk.fingerprint", ("kiosk.services", "kiosk.adapters", "kiosk.ui", *KIVY)),   # the sensors
    ("dakoku_core.errors", ("kiosk.ports", "kiosk.services", "kiosk.adapters", "kiosk.ui", *KIVY)),
    ("kiosk.ports", ("kiosk.services", "kiosk.adapters", "kiosk.ui", *KIVY)),
    ("kiosk.services", ("kiosk.adapters", "kiosk.ui", *KIVY)),
    ("kiosk.adapters", ("kiosk.ui", *KIVY)),
    ("dakoku_server", ("kiosk.ui", "kiosk.services", "kiosk.adapters", *KIVY)),
]
UI = "kiosk.ui"


def _within(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


def imported_names(module: str, source: str, *, is_package: bool = False) -> list[tuple[int, str]]:
    """Every module ``source`` imports (absolute names, relative imports resolved), with its line."""
    found: list[tuple[int, str]] = []
    package = module if is_package else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                parent = ".".join(parts[: len(parts) - node.level + 1])
                base = f"{parent}.{base}" if base else parent
            # ``from kiosk import ui`` imports kiosk.ui: name each imported submodule candidate too
            found.append((node.lineno, base))
            found += [(node.lineno, f"{base}.{alias.name}") for alias in node.names if alias.name != "*"]
    return found


def violations(module: str, source: str, *, is_package: bool = False) -> list[str]:
    """The imports of ``module`` that cross a layer they must not, as ``module:line -> name``."""
    bad: list[str] = []
    for line, name in imported_names(module, source, is_package=is_package):
        forbidden = [f for package, banned in RULES if _within(module, package) for f in banned]
        if not _within(module, UI):
            forbidden += list(KIVY)   # nothing outside kiosk/ui imports Kivy or KivyMD
        if any(_within(name, f) for f in forbidden):
            bad.append(f"{module}:{line} -> {name}")
    return sorted(set(bad))


def module_name(path: Path) -> tuple[str, bool]:
    relative = path.relative_to(ROOT).with_suffix("")
    parts = list(relative.parts)
    is_package = parts[-1] == "__init__"
    if is_package:
        parts = parts[:-1]
    return ".".join(parts), is_package


def project_sources() -> list[Path]:
    return sorted(p for package in ("kiosk", "dakoku_core", "dakoku_server")
                  for p in (ROOT / package).rglob("*.py") if "__pycache__" not in p.parts)


# -- the checker itself catches what it must --------------------------------------------------------------------
@pytest.mark.parametrize("module, source", [
    ("dakoku_core.domain.rules", "from kiosk.services.punch import PunchService\n"),
    ("dakoku_core.domain.model", "def f():\n    import kivy.clock\n"),                        # inside a function
    ("dakoku_core.domain.model", "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from kiosk.ui import app\n"),
    ("kiosk.ports.ledger", "from kiosk.adapters.ledger import SqlitePunchLedger\n"),
    ("kiosk.services.punch", "from kiosk.adapters.browser import SystemBrowser\n"),
    ("kiosk.services.punch", "from kiosk import adapters\n"),                            # a submodule by name
    ("kiosk.services.punch", "from ..ui import format\n"),                               # relative
    ("kiosk.services.punch", "from kivymd.app import MDApp\n"),
    ("kiosk.adapters.browser", "from kiosk.ui.bridge import UiBridge\n"),
    ("kiosk.adapters.browser", "import kivy\n"),
    ("dakoku_server.app", "from kiosk.services.recorder_api import ClientSlot\n"),
    ("dakoku_server.app", "from kiosk.adapters import memory\n"),
    ("kiosk.cli", "from kivy.core.window import Window\n"),                              # anything outside kiosk/ui
    ("dakoku_core.errors", "import kivymd.uix\n"),
    ("dakoku_core.protocol.signing", "from kiosk.services.clock import KioskClock\n"),
    ("kiosk.fingerprint.sensor", "from kiosk.adapters.ledger.db import LedgerDatabase\n"),
])
def test_the_checker_catches_a_planted_import(module, source):
    assert violations(module, source), f"{module} importing {source!r} was not caught"


@pytest.mark.parametrize("module, source", [
    ("kiosk.services.punch", "from dakoku_core.domain.model import Punch\nfrom kiosk.ports import MasterData\n"),
    ("kiosk.services.punch", "from . import undo\nfrom .recorder_api import ClientSlot\n"),   # relative, same layer
    ("kiosk.adapters.browser", "from kiosk.services.timecard import TimecardService\n"),
    ("kiosk.ui.app", "from kivy.clock import Clock\nfrom kiosk.adapters.wedge_reader import WedgeCardReader\n"),
    ("dakoku_server.app", "from dakoku_core.domain.model import Punch\nfrom dakoku_core.protocol import signing\n"),
    ("kiosk.app_factory", "from kiosk.adapters.browser import SystemBrowser\nfrom kiosk.ui import app\n"),
    ("kiosk.services.punch", "import kivyish_but_not_kivy\n"),
])
def test_the_checker_lets_allowed_imports_through(module, source):
    assert violations(module, source) == []


def test_relative_imports_are_resolved_from_the_package():
    assert ("kiosk.services.undo" in
            [name for _line, name in imported_names("kiosk.services.punch", "from .undo import UndoService\n")])
    assert ("kiosk.ports.ledger" in
            [name for _line, name in imported_names("kiosk.ports", "from .ledger import X\n", is_package=True)])


# -- the project holds the rules --------------------------------------------------------------------------------
def test_the_project_holds_its_layers():
    sources = project_sources()
    assert len(sources) > 100   # the walk found the project (a wrong ROOT would pass vacuously)
    bad = []
    for path in sources:
        module, is_package = module_name(path)
        bad += violations(module, path.read_text(encoding="utf-8"), is_package=is_package)
    assert bad == [], "imports across a layer:\n" + "\n".join(bad)


# -- flows reach one another only through their public API ------------------------------------------------------
FLOW_NAMES = {"app", "flow", "manager_flow", "finger_flow", "punch", "registration", "fingers", "undo", "question",
              "waits", "password", "pages"}


def private_reaches(source: str) -> list[str]:
    """``x.flow._something`` (or ``app._something``): a private name of another object reached through a flow's
    name. ``self._something`` is a flow's own business and is not counted."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not (isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__")):
            continue
        owner = node.value
        name = owner.attr if isinstance(owner, ast.Attribute) else owner.id if isinstance(owner, ast.Name) else ""
        if name in FLOW_NAMES:
            found.append(f"{node.lineno}: {ast.unparse(node)}")
    return found


def test_the_private_reach_check_catches_a_planted_call():
    assert private_reaches("def f(app):\n    app.flow._punched(1)\n") == ["2: app.flow._punched"]
    assert private_reaches("class A:\n    def f(self):\n        self.flow._failed(e)\n") == ["3: self.flow._failed"]
    assert private_reaches("def f(app):\n    app._status_trigger()\n") == ["2: app._status_trigger"]
    assert private_reaches("class A:\n    def f(self):\n        self._x()\n        self.flow.show()\n") == []


def test_no_ui_module_reaches_into_a_flows_private_methods():
    sources = sorted((ROOT / "kiosk" / "ui").rglob("*.py"))
    assert len(sources) > 20
    bad = [f"{path.relative_to(ROOT)}:{hit}" for path in sources for hit in private_reaches(path.read_text("utf-8"))]
    assert bad == [], "private methods reached across flows:\n" + "\n".join(bad)
