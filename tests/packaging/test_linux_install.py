"""Issue 13, the Linux appliance (packaging/linux): install.sh is idempotent and uninstall.sh leaves nothing,
both run into a staging root (--root) so that this machine is not touched; the unit passes
`systemd-analyze verify`; the udev rules parse."""
from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

LINUX = Path(__file__).resolve().parents[2] / "packaging" / "linux"
UNIT = "etc/systemd/system/dakoku-kiosk.service"
HWDB = "60-autosuspend-libfprint-2.hwdb"


def run(script: str, *args: str, env: dict | None = None) -> str:
    done = subprocess.run(["bash", str(LINUX / script), *args], capture_output=True, text=True, timeout=60,
                          env=dict(os.environ, **(env or {})))
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def tree(root: Path) -> dict[str, str]:
    """Every path under root with its content's SHA-256 (directories: 'dir') and its mode."""
    return {str(p.relative_to(root)): ("dir" if p.is_dir() else hashlib.sha256(p.read_bytes()).hexdigest())
            + f" {p.stat().st_mode & 0o7777:o}" for p in sorted(root.rglob("*"))}


@pytest.fixture
def fake_hwdb(tmp_path) -> Path:
    """libfprint's hwdb in the shape its package ships (two supported sensors, one unsupported)."""
    hwdb = tmp_path / HWDB
    hwdb.write_text("# Supported by libfprint driver aes1610\nusb:v08FFp1600*\n ID_AUTOSUSPEND=1\n ID_PERSIST=0\n\n"
                    "# Supported by libfprint driver synaptics\nusb:v06CBp00BD*\n ID_AUTOSUSPEND=1\n\n"
                    "# Known unsupported devices\nusb:v04F3p0903*\n ID_AUTOSUSPEND=1\n")
    return hwdb


def test_install_twice_gives_the_same_tree_and_uninstall_leaves_nothing(tmp_path, fake_hwdb):
    root, bundle = tmp_path / "root", tmp_path / "bundle"
    (bundle / "_internal").mkdir(parents=True)
    (bundle / "dakoku-kiosk").write_text("#!/bin/sh\n")
    (bundle / "dakoku-kiosk").chmod(0o755)
    env = {"LIBFPRINT_HWDB": str(fake_hwdb)}
    first = run("install.sh", "--root", str(root), "--bundle", str(bundle), env=env)
    assert "skipped (--root): systemctl enable pcscd.socket dakoku-kiosk.service" in first
    installed = tree(root)
    assert {UNIT, "usr/lib/dakoku/kiosk-session", "etc/udev/rules.d/95-dakoku-readers.rules",
            "etc/udev/rules.d/71-dakoku-fingerprint.rules", "etc/X11/xorg.conf.d/50-dakoku-kiosk.conf",
            "usr/lib/sysusers.d/dakoku.conf", "opt/dakoku/kiosk/dakoku-kiosk"} <= set(installed)
    assert installed["usr/lib/dakoku/kiosk-session"].endswith(" 755")
    assert (root / "etc/dakoku/kiosk.env").read_text().endswith("DAKOKU_KIOSK=/opt/dakoku/kiosk/dakoku-kiosk\n")
    second = run("install.sh", "--root", str(root), "--bundle", str(bundle), env=env)
    assert tree(root) == installed
    assert "installed" not in second.replace("(--root)", "")   # nothing was written the second time
    run("uninstall.sh", "--root", str(root))
    assert list(root.iterdir()) == []


def test_uninstall_keeps_what_it_did_not_create(tmp_path, fake_hwdb):
    root = tmp_path / "root"
    (root / "etc/udev/rules.d").mkdir(parents=True)
    (root / "etc/udev/rules.d/10-local.rules").write_text("# the administrator's\n")
    (root / "var/lib/dakoku").mkdir(parents=True)
    (root / "var/lib/dakoku/ledger.sqlite3").write_text("punches not sent yet")
    run("install.sh", "--root", str(root), env={"LIBFPRINT_HWDB": str(fake_hwdb)})
    run("uninstall.sh", "--root", str(root))
    assert tree(root).keys() == {"etc", "etc/udev", "etc/udev/rules.d", "etc/udev/rules.d/10-local.rules", "var",
                                 "var/lib", "var/lib/dakoku", "var/lib/dakoku/ledger.sqlite3"}
    run("uninstall.sh", "--root", str(root), "--purge")
    assert not (root / "var/lib/dakoku").exists()


def test_dry_run_changes_nothing(tmp_path, fake_hwdb):
    root = tmp_path / "root"
    out = run("install.sh", "--root", str(root), "--dry-run", env={"LIBFPRINT_HWDB": str(fake_hwdb)})
    assert "would install /etc/systemd/system/dakoku-kiosk.service" in out
    assert "would run: systemctl enable pcscd.socket dakoku-kiosk.service" in out
    assert not root.exists()


def test_fingerprint_rules_come_from_libfprint_s_hwdb(tmp_path, fake_hwdb):
    root = tmp_path / "root"
    run("install.sh", "--root", str(root), env={"LIBFPRINT_HWDB": str(fake_hwdb)})
    rules = (root / "etc/udev/rules.d/71-dakoku-fingerprint.rules").read_text()
    assert 'ATTR{idVendor}=="08ff", ATTR{idProduct}=="1600", MODE="0660", GROUP="dakoku"' in rules
    assert 'ATTR{idProduct}=="00bd"' in rules and "0903" not in rules   # unsupported devices are left out


@pytest.mark.skipif(not shutil.which("systemd-analyze"), reason="systemd-analyze missing (apt install systemd)")
def test_the_unit_passes_systemd_analyze_verify(tmp_path, fake_hwdb):
    root = tmp_path / "root"
    run("install.sh", "--root", str(root), env={"LIBFPRINT_HWDB": str(fake_hwdb)})
    # verify checks that ExecStart exists: point it at the staged session script (nothing else changes)
    unit = tmp_path / "dakoku-kiosk.service"
    text = (root / UNIT).read_text()
    assert "ExecStart=/usr/lib/dakoku/kiosk-session\n" in text
    unit.write_text(text.replace("ExecStart=/usr/lib/dakoku/", f"ExecStart={root}/usr/lib/dakoku/"))
    done = subprocess.run(["systemd-analyze", "verify", str(unit)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and not (done.stdout + done.stderr).strip(), done.stdout + done.stderr


def test_the_unit_restarts_on_failure_with_a_watchdog():
    unit = (LINUX / "dakoku-kiosk.service").read_text()
    for line in ("Type=notify", "NotifyAccess=all", "Restart=on-failure", "WatchdogSec=30", "User=dakoku",
                 "PAMName=login", "TTYPath=/dev/tty7", "WantedBy=multi-user.target"):
        assert f"\n{line}\n" in unit, line
    session = (LINUX / "kiosk-session").read_text()
    assert "-nocursor" in session and "-dpms" in session and "xset s off s noblank -dpms" in session
    assert 'exec "$DAKOKU_KIOSK" run' in session   # the kiosk is the main process: its exit is the unit's
    subprocess.run(["sh", "-n", str(LINUX / "kiosk-session")], check=True)


# udev rule syntax (udevadm verify is systemd 253+; Debian 12 has 252): every line is comma-separated
# KEY[{attr}] OP "value" items with udev's operators, and every GOTO has its LABEL.
UDEV_ITEM = re.compile(r'\s*(?P<key>[A-Z_]+)(?:\{(?P<attr>[^}]+)\})?\s*'
                       r'(?P<op>==|!=|\+=|-=|:=|=)\s*"(?P<value>[^"]*)"\s*')
UDEV_KEYS = {"ACTION", "SUBSYSTEM", "SUBSYSTEMS", "ENV", "ATTR", "ATTRS", "KERNEL", "DRIVER", "TAG", "TEST",
             "MODE", "GROUP", "OWNER", "GOTO", "LABEL", "RUN", "IMPORT", "DEVPATH"}
MATCH_ONLY = {"SUBSYSTEMS", "ATTRS", "KERNEL", "DRIVER", "TEST", "DEVPATH"}


def udev_errors(text: str) -> list[str]:
    errors, gotos, labels = [], set(), set()
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        items = line.split('",')   # values hold no '",'
        for raw in items:
            item = raw if raw.rstrip().endswith('"') else raw + '"'
            match = UDEV_ITEM.fullmatch(item)
            if not match or match["key"] not in UDEV_KEYS:
                errors.append(f"line {n}: cannot parse {raw.strip()!r}")
                continue
            if match["key"] in MATCH_ONLY and match["op"] not in ("==", "!="):
                errors.append(f"line {n}: {match['key']} can only be matched")
            if match["key"] == "ACTION" and match["op"] not in ("==", "!="):
                errors.append(f"line {n}: ACTION assigned")
            (gotos if match["key"] == "GOTO" else labels if match["key"] == "LABEL" else set()).add(match["value"])
    errors += [f"GOTO {g} has no LABEL" for g in gotos - labels]
    return errors


def test_the_udev_rules_parse(tmp_path):
    root = tmp_path / "root"
    run("install.sh", "--root", str(root))   # the fingerprint rules from this machine's libfprint, if installed
    rules = sorted((root / "etc/udev/rules.d").glob("*.rules"))
    assert root / "etc/udev/rules.d/95-dakoku-readers.rules" in rules
    for path in rules:
        assert udev_errors(path.read_text()) == [], path.name
    assert udev_errors('ATTR{idVendor}=="054c" MODE="0660"\n')        # a missing comma is caught
    assert udev_errors('GOTO="nowhere"\n') == ["GOTO nowhere has no LABEL"]


def test_the_reader_rules_name_the_pasori_ids_libccid_supports():
    rules = (LINUX / "95-dakoku-readers.rules").read_text()
    plist = Path("/usr/lib/pcsc/drivers/ifd-ccid.bundle/Contents/Info.plist")
    if plist.exists():   # libccid (installed with pcscd): its Sony readers are all in our rule
        import plistlib

        data = plistlib.loads(plist.read_bytes())
        sony = {p.lower()[2:] for v, p in zip(data["ifdVendorID"], data["ifdProductID"]) if v.lower() == "0x054c"}
        assert sony and all(pid in rules for pid in sony), sony
    assert '"06c1|06c3"' in rules   # RC-S380/S, RC-S380/P (not CCID)


def udevadm_can_verify() -> bool:
    if not shutil.which("udevadm"):
        return False
    return subprocess.run(["udevadm", "verify", "--help"], capture_output=True).returncode == 0


@pytest.mark.skipif(not udevadm_can_verify(), reason="`udevadm verify` needs systemd 253+ (Debian 12 has 252; "
                                                     "the syntax check above runs instead)")
def test_udevadm_verify(tmp_path):
    root = tmp_path / "root"
    run("install.sh", "--root", str(root))
    rules = [str(p) for p in sorted((root / "etc/udev/rules.d").glob("*.rules"))]
    done = subprocess.run(["udevadm", "verify", "--no-summary", *rules], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
