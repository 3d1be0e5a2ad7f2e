"""Services and domain import without Kivy (design.md §3): checked in a clean interpreter."""
import subprocess
import sys


def test_services_and_domain_do_not_import_kivy():
    code = ("import sys, kiosk.services, kiosk.services.punch, kiosk.services.clock, kiosk.domain.rules, "
            "kiosk.app_factory, kiosk.adapters.ledger; "
            "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('kivy', 'kivymd')); print(bad)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
