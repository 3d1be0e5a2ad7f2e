"""Every catalogue key, named message variant and lettered cause is raised by product code (kiosk/,
dakoku_core/, dakoku_server/), not only by tests. A static scan with the ast module; rules (docs/errors.md § Reach):

- a key is raised where a string constant equal to it is an argument of ``KioskError(...)`` (or a subclass's
  ``super().__init__(...)``) or of the server's ``ApiError(...)``; or where it is assigned, returned or chosen
  (``a if c else b``) inside a function that raises ``KioskError`` with a computed key, or whose result a
  function of the same module passes to one (``key = "x" if ... else "y"; KioskError(key)``);
- a named variant (a non-default ``messages`` key that is not a situation) needs ``variant="name"`` in such a
  call; a situation-named variant needs the key raised in a module that names that ``Situation`` member;
- a lettered cause needs ``cause_letter="X"`` in such a call (the server's ``ApiError(..., cause_letter="X")``
  counts: the kiosk raises what the server's error body names).
"""
from __future__ import annotations

import ast
import json
import sys
from collections import defaultdict
from functools import lru_cache
from pathlib import Path

from dakoku_core.errors import Situation

ROOT = Path(__file__).resolve().parents[2]
ENTRIES = json.loads((ROOT / "dakoku_core" / "data" / "catalogue.json").read_text("utf-8"))["entries"]
KEYS = {e["key"] for e in ENTRIES}
SITUATIONS = {s.value for s in Situation}
RAISERS = {"KioskError", "ApiError", "__init__"}

# Items no product code raises yet while work on them is under way (each entry: why, and what it waits for).
# Empty: every item is raised by product code.
PENDING: dict[str, str] = {}

# Items that are deliberately not raised (none today); each with its reason.
UNREACHABLE_BY_DESIGN: dict[str, str] = {}


def _name(call: ast.Call) -> str | None:
    func = call.func
    return func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else None


def _constant(node) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _key_argument(call: ast.Call):
    """The argument that names the catalogue key: KioskError's first, ApiError's second (after the status)."""
    index = 1 if _name(call) == "ApiError" else 0
    return call.args[index] if len(call.args) > index else None


def _keyword(call: ast.Call, name: str):
    return next((k.value for k in call.keywords if k.arg == name), None)


def _used_names(modules: list["_Module"]) -> set[str]:
    """Every name product code calls or refers to (``f(...)``, ``obj.f``, ``f`` passed as a value)."""
    used = set()
    for module in modules:
        for node in ast.walk(module.tree):
            if isinstance(node, ast.Attribute):
                used.add(node.attr)
            elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
                used.add(node.id)
    return used


def _in_use(fn: ast.AST | None, used: set[str]) -> bool:
    """A raise counts when its function is called somewhere in product code: by name (one level: a method
    only tests call does not count), or it is an entry point (a decorated route, a dunder, module level)."""
    if fn is None or fn.decorator_list or fn.name.startswith("__") or fn.name.startswith("do_"):
        return True
    return fn.name in used


class _Module:
    def __init__(self, path: Path):
        self.path = path
        self.tree = ast.parse(path.read_text("utf-8"))
        self.owner: dict[int, ast.AST] = {}    # call → its innermost function (ast.walk is breadth-first)
        for fn in (n for n in ast.walk(self.tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))):
            for node in ast.walk(fn):
                if isinstance(node, ast.Call):
                    self.owner[id(node)] = fn
        self.situations = {n.attr for n in ast.walk(self.tree)
                           if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name) and n.value.id == "Situation"}
        self.raises = [n for n in ast.walk(self.tree) if isinstance(n, ast.Call) and _name(n) in RAISERS
                       and _key_argument(n) is not None]

    def computed_key_functions(self) -> list[ast.AST]:
        """Functions whose string constants may be keys: those raising with a computed key, and (same module)
        the helpers they take the key from."""
        found, helpers = [], set()
        for fn in (n for n in ast.walk(self.tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))):
            for call in (n for n in ast.walk(fn) if isinstance(n, ast.Call) and _name(n) in RAISERS):
                arg = _key_argument(call)
                if arg is not None and _constant(arg) is None:
                    found.append(fn)
                    helpers |= {_name(c) for c in ast.walk(fn) if isinstance(c, ast.Call)}
        found += [fn for fn in ast.walk(self.tree)
                  if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)) and fn.name in helpers]
        return found


def _chosen_constants(fn: ast.AST) -> set[str]:
    """String constants assigned, returned or chosen by a conditional expression in ``fn``."""
    values: set[str] = set()
    for node in ast.walk(fn):
        targets = []
        if isinstance(node, (ast.Assign, ast.Return, ast.AnnAssign)) and node.value is not None:
            targets.append(node.value)
        for value in targets:
            stack = [value]
            while stack:
                current = stack.pop()
                if isinstance(current, ast.IfExp):
                    stack += [current.body, current.orelse]
                elif _constant(current):
                    values.add(current.value)
    return values


def scan() -> dict[str, set[str]]:
    """item → the product files that raise it. Items: ``key``, ``key/variant``, ``key#letter``."""
    return _scan(ROOT)


@lru_cache(maxsize=4)
def _scan(root: Path) -> dict[str, set[str]]:
    reached: dict[str, set[str]] = defaultdict(set)
    files = sorted(p for package in ("kiosk", "dakoku_core", "dakoku_server") for p in (root / package).rglob("*.py"))
    modules = [_Module(p) for p in files]
    key_modules: dict[str, set[_Module]] = defaultdict(set)
    used = _used_names(modules)
    for module in modules:
        where = str(module.path.relative_to(root))
        for call in module.raises:
            if not _in_use(module.owner.get(id(call)), used):
                continue
            key = _constant(_key_argument(call))
            letter = _keyword(call, "cause_letter")
            if key not in KEYS:
                continue
            reached[key].add(where)
            key_modules[key].add(module)
            if _constant(_keyword(call, "variant")):
                reached[f"{key}/{_constant(_keyword(call, 'variant'))}"].add(where)
            if _constant(letter):
                reached[f"{key}#{_constant(letter)}"].add(where)
        if any(_name(n) == "unexpected" for n in ast.walk(module.tree) if isinstance(n, ast.Call)):
            reached["unexpected"].add(where)           # dakoku_core.errors.unexpected(exc, situation): 999
            key_modules["unexpected"].add(module)
        for fn in module.computed_key_functions():
            if not _in_use(fn, used):
                continue
            for key in _chosen_constants(fn) & KEYS:
                reached[key].add(where)
                key_modules[key].add(module)
    for key, found_in in key_modules.items():
        for module in found_in:
            for member in module.situations:
                reached[f"{key}/{Situation[member].value}"].add(str(module.path.relative_to(root)))
    return reached


def catalogue_items() -> list[str]:
    items = []
    for entry in ENTRIES:
        items.append(entry["key"])
        items += [f"{entry['key']}/{v}" for v in entry["messages"] if v != "default"]
        items += [f"{entry['key']}#{c}" for c in entry["causes"] if c != "default"]
    return items


def test_every_catalogue_item_is_raised_by_product_code():
    reached = scan()
    items = catalogue_items()
    raised = [i for i in items if i in reached]
    missing = [i for i in items if i not in reached and i not in PENDING and i not in UNREACHABLE_BY_DESIGN]
    print(f"\ncatalogue items raised by product code: {len(raised)} of {len(items)} "
          f"({len(KEYS)} keys; pending {len(PENDING)}, by design {len(UNREACHABLE_BY_DESIGN)})")
    assert not missing, f"raised by no product code (only by tests, or by nobody): {missing}"


def test_the_lists_hold_only_what_is_still_unreached():
    """An item deliberately unreached must stay so, and a PENDING item that product code now raises must leave
    the list (so the lists never hide a reachable item)."""
    reached = scan()
    assert sorted(i for i in UNREACHABLE_BY_DESIGN if i in reached) == []
    assert sorted(i for i in PENDING if i in reached) == [], "raised now: remove from PENDING"
    assert set(PENDING) | set(UNREACHABLE_BY_DESIGN) <= set(catalogue_items())


def test_the_scan_can_fail(tmp_path, monkeypatch):
    """The scan does not count a key only compared with, nor one raised by a function no product code calls."""
    reached = scan()
    assert "server_unreachable/exception" in reached and "auth_failed#C" in reached
    module = tmp_path / "kiosk" / "x.py"
    module.parent.mkdir()
    module.write_text('from dakoku_core.errors import KioskError\n'
                      'def f(e):\n    if e.key == "employee_not_selected":\n        return 1\n'
                      '    raise KioskError("auth_failed", cause_letter="Z")\n'
                      'def only_tests_call_me():\n    raise KioskError("employee_code_empty")\n'
                      'def main():\n    f(None)\n', "utf-8")
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    small = scan()
    assert "auth_failed" in small and "auth_failed#Z" in small
    assert "employee_not_selected" not in small and "employee_code_empty" not in small
