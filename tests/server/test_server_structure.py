"""The server's code structure (issue 13): routes are registered explicitly, a blueprint per module imported at
the top of the app; no import exists only for its side effects; no private name crosses a module boundary.

The checks read dakoku_server with ``ast`` (nothing is imported to find a problem), and each is shown to catch
a planted case in a synthetic source, so a check that silently finds nothing cannot pass.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest
from flask import Blueprint

import dakoku_server as server_package

ROOT = Path(__file__).resolve().parents[2]
SERVER = Path(server_package.__file__).parent        # wherever the server package lives (issue 13's split)
PROJECT = {path.name for path in ROOT.iterdir() if (path / "__init__.py").is_file()}   # kiosk, tests, ...
PUBLIC_BY_CONVENTION = {"_meta"}        # peewee's documented model metadata (Model._meta)
ROUTE_METHODS = {"route", "get", "post", "put", "patch", "delete", "add_url_rule"}
BLUEPRINT_FACTORIES = {"Blueprint", "api_blueprint"}
APP_FACTORY = "create_app"


def _is_private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def _project_module(module: str | None, level: int) -> bool:
    return level > 0 or (module or "").split(".")[0] in PROJECT


def _imported_modules(tree: ast.Module) -> dict[str, str]:
    """Local name → module path, for names bound to a project module (``from dakoku_server import db``,
    ``import dakoku_server.db as db``). A name imported from a module may be a module too: both are recorded."""
    bound: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if _project_module(alias.name, 0):
                    bound[alias.asname or alias.name.split(".")[0]] = alias.name
        elif isinstance(node, ast.ImportFrom) and _project_module(node.module, node.level):
            for alias in node.names:
                bound[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    return bound


def private_imports(source: str) -> list[str]:
    """``from kiosk.x import _name`` and ``module._name`` on an imported project module."""
    tree = ast.parse(source)
    found = [f"line {node.lineno}: from {'.' * node.level}{node.module or ''} import {alias.name}"
             for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
             and _project_module(node.module, node.level) for alias in node.names if _is_private(alias.name)]
    modules = _imported_modules(tree)
    found += [f"line {node.lineno}: {node.value.id}.{node.attr}" for node in ast.walk(tree)
              if isinstance(node, ast.Attribute) and _is_private(node.attr) and node.attr not in PUBLIC_BY_CONVENTION
              and isinstance(node.value, ast.Name) and node.value.id in modules]
    return found


def _blueprints_made_here(tree: ast.Module) -> set[str]:
    """Module-level names assigned a new blueprint (``x = Blueprint(...)`` / ``x = api_blueprint(...)``)."""
    names = set()
    for node in tree.body:
        if isinstance(node, (ast.Assign, ast.AnnAssign)) and isinstance(node.value, ast.Call):
            func = node.value.func
            called = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
            if called in BLUEPRINT_FACTORIES:
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                names |= {t.id for t in targets if isinstance(t, ast.Name)}
    return names


def _route_calls(node: ast.AST):
    """(object name, line) of every ``<name>.get(...)``-style route decorator or ``add_url_rule`` call."""
    decorators = node.decorator_list if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) else []
    calls = [d for d in decorators if isinstance(d, ast.Call)]
    if isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "add_url_rule":
        calls.append(node)
    for call in calls:
        func = call.func
        if isinstance(func, ast.Attribute) and func.attr in ROUTE_METHODS and isinstance(func.value, ast.Name):
            yield func.value.id, call.lineno


def misplaced_routes(source: str) -> list[str]:
    """Routes added anywhere but on a blueprint this module makes, or on the app inside the app factory."""
    tree = ast.parse(source)
    own = _blueprints_made_here(tree)
    in_factory: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef) and node.name == APP_FACTORY:
            in_factory |= {id(inner) for inner in ast.walk(node)}
    found = []
    for node in ast.walk(tree):
        for name, line in _route_calls(node):
            if name not in own and id(node) not in in_factory:
                found.append(f"line {line}: route on {name!r}, not on a blueprint made in this module")
    return found


def side_effect_imports(source: str) -> list[str]:
    """Project imports whose name the module never uses: imported only to run the module (e.g. to add routes)."""
    tree = ast.parse(source)
    used = {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}
    exported = {elt.value for node in tree.body if isinstance(node, ast.Assign)
                for t in node.targets if isinstance(t, ast.Name) and t.id == "__all__"
                for elt in getattr(node.value, "elts", []) if isinstance(elt, ast.Constant)}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [(a.asname or a.name.split(".")[0], a.name) for a in node.names if _project_module(a.name, 0)]
        elif isinstance(node, ast.ImportFrom) and _project_module(node.module, node.level):
            names = [(a.asname or a.name, f"{node.module}.{a.name}") for a in node.names]
        else:
            continue
        found += [f"line {node.lineno}: {path} is never used" for local, path in names
                  if local not in used and local not in exported]
    return found


def _server_sources() -> dict[str, str]:
    return {path.name: path.read_text("utf-8") for path in sorted(SERVER.glob("*.py"))}


CHECKS = {"private import": private_imports, "route outside a blueprint": misplaced_routes,
          "import for side effects": side_effect_imports}


@pytest.mark.parametrize("check", CHECKS.values(), ids=CHECKS.keys())
def test_the_server_code_has_none(check):
    sources = _server_sources()
    assert len(sources) > 30                                          # really read the package
    problems = {name: found for name, source in sources.items() if (found := check(source))}
    assert problems == {}


# -- each check catches a planted case ------------------------------------------------------------------------
@pytest.mark.parametrize("source, expected", [
    ("from dakoku_server.timecard import _secret\n", "from dakoku_server.timecard import _secret"),
    ("from .admin import AdminError, _code\n", "from .admin import _code"),
    ("from dakoku_server import api_fingerprints\nv = api_fingerprints._vault()\n", "api_fingerprints._vault"),
    ("import dakoku_server.db as db\ndb._pg_serialised(None)\n", "db._pg_serialised"),
])
def test_a_private_import_is_caught(source, expected):
    assert [p.split(": ", 1)[1] for p in private_imports(source)] == [expected]


def test_private_names_of_ones_own_and_dunders_are_fine():
    assert private_imports("from __future__ import annotations\nfrom kiosk import __version__\n"
                           "def _mine(): pass\n_mine()\nimport json\njson._default_decoder\n") == []


@pytest.mark.parametrize("source", [
    'from dakoku_server.app import api\n@api.post("/v1/x")\ndef x(): pass\n',                # another module's
    'def _register_routes(app):\n    @app.get("/healthz")\n    def healthz(): pass\n',       # outside the factory
    'from flask import Flask\napp = Flask("x")\n@app.route("/x")\ndef x(): pass\n',          # a module-level app
    'from dakoku_server.timecard import pages\npages.add_url_rule("/x", view_func=print)\n',
])
def test_a_route_outside_a_blueprint_of_the_module_is_caught(source):
    assert len(misplaced_routes(source)) == 1


def test_routes_on_the_modules_own_blueprint_or_in_the_factory_are_fine():
    assert misplaced_routes(
        'from flask import Blueprint, Flask\nfrom dakoku_server.api_base import api_blueprint\n'
        'pages = Blueprint("p", __name__)\nblueprint = api_blueprint("b", __name__)\n'
        '@pages.get("/p")\ndef p(): pass\n@blueprint.post("/b")\ndef b(): pass\n'
        'def create_app():\n    app = Flask("x")\n    @app.get("/f")\n    def f(): pass\n    return app\n') == []


@pytest.mark.parametrize("source", [
    "from dakoku_server import api_punches  # noqa: F401\n",
    "def _register(app):\n    from dakoku_server import api_master  # noqa: F401\n    app.register_blueprint(x)\n",
    "import dakoku_server.api_identify\n",
])
def test_an_import_for_side_effects_is_caught(source):
    assert len(side_effect_imports(source)) == 1


def test_used_and_exported_imports_are_fine():
    assert side_effect_imports("import os\nfrom dakoku_server import db\nfrom dakoku_core.errors import KioskError\n"
                               "__all__ = ['KioskError']\ndb.open_database('x')\n") == []


# -- the app registers every blueprint, imported at its top -------------------------------------------------
def _blueprint_modules() -> set[str]:
    return {name[:-3] for name, source in _server_sources().items() if _blueprints_made_here(ast.parse(source))}


def test_the_app_imports_every_route_module_at_its_top():
    tree = ast.parse((SERVER / "app.py").read_text("utf-8"))
    top = {alias.asname or alias.name for node in tree.body if isinstance(node, ast.ImportFrom)
           and node.module == server_package.__name__ for alias in node.names}
    nested = [node.lineno for func in ast.walk(tree) if isinstance(func, ast.FunctionDef)
              for node in ast.walk(func) if isinstance(node, (ast.Import, ast.ImportFrom))]
    modules = _blueprint_modules()
    assert {"api_punches", "timecard", "pairing", "help_pages"} <= modules
    assert modules - {"api_base"} <= top and nested == []


def test_the_app_registers_every_blueprint_and_each_has_routes(server):
    from importlib import import_module

    from dakoku_server.app import ServerConfig, create_app
    app = create_app(ServerConfig(db_url=server.db_url))      # the session's database: create_app opens it
    made = {value for name in _blueprint_modules()
            for value in vars(import_module(f"{server_package.__name__}.{name}")).values() if isinstance(value, Blueprint)}
    assert made and made <= set(app.blueprints.values())
    with_routes = {rule.endpoint.split(".")[0] for rule in app.url_map.iter_rules()}
    assert {bp.name for bp in made} <= with_routes
    signed = {rule.rule for rule in app.url_map.iter_rules() if rule.rule.startswith("/v1/")}
    assert {"/v1/punches", "/v1/master", "/v1/time", "/v1/employees/<employee_key>/timecard-url"} <= signed
