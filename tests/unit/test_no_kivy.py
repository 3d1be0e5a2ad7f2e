"""Services, domain and the composition root import without Kivy (design.md §3), in a clean interpreter.

Every module of dakoku_core.domain and kiosk.services is imported (walked, not listed by hand)."""
import subprocess
import sys

CODE = """
import importlib, pkgutil, sys
import dakoku_core.domain, kiosk.services
names = ["kiosk.ports", "kiosk.settings", "kiosk.app_factory", "kiosk.adapters.ledger"]
for package in (dakoku_core.domain, kiosk.services):
    names += [m.name for m in pkgutil.walk_packages(package.__path__, package.__name__ + ".")]
for name in names:
    importlib.import_module(name)
bad = sorted(m for m in sys.modules if m.split(".")[0] in ("kivy", "kivymd"))
print(len(names), bad)
"""


def test_services_and_domain_do_not_import_kivy():
    out = subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    count, bad = out.stdout.strip().split(" ", 1)
    assert int(count) >= 12 and bad == "[]"
