"""The admin CLI as an operator runs it: one process per command against a fresh database."""
from __future__ import annotations

import subprocess
import sys

import pytest

from dakoku_core.protocol.certificate import check_pair, parse_certificate
from dakoku_core.protocol.connection import parse_connection_string

pytestmark = pytest.mark.timeout(120)


def run(db_url: str, *args: str, stdin: str = "") -> str:
    done = subprocess.run([sys.executable, "-m", "dakoku_server.cli", "--db", db_url, *args], input=stdin,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_operator_sets_up_a_company_and_a_recorder(tmp_path):
    db = f"sqlite:///{tmp_path / 'admin.sqlite'}"
    run(db, "init", "--url", "https://attendance.example.jp:8443/")
    run(db, "tls", "init", "--dir", str(tmp_path / "tls"), "--host", "attendance.example.jp", "--host", "127.0.0.1")
    run(db, "companies", "add", "ACME", "アクメ")
    run(db, "departments", "add", "ACME", "HQ", "本社")
    run(db, "employment-types", "add", "ACME", "PT", "パート", "--no-break-punch")
    run(db, "employees", "add", "ACME", "E1", "--last-name", "山田", "--first-name", "花子", "--department", "HQ",
        "--type", "PT", "--hired", "2024-04-01", "--password-punch", "--password-stdin", stdin="s3cret\n")
    assert "password_punch=True" in run(db, "employees", "list", "ACME")
    run(db, "cards", "add", "ACME", "E1", "01:23:45:67:89:AB:CD:EF")
    run(db, "ip-allow", "add", "ACME", "192.0.2.10")
    assert run(db, "ip-allow", "list", "ACME").split() == ["192.0.2.10"]
    out = run(db, "recorders", "add", "ACME", "R1", "--department", "HQ", "--out", str(tmp_path / "r1.txt"))
    connection = parse_connection_string(out.splitlines()[1])
    certificate = parse_certificate(out)
    check_pair(connection, certificate)                 # the CA pin matches the CA inside the certificate
    assert connection.url == "https://attendance.example.jp:8443/" and connection.ca_pin.startswith("sha256:")
    assert parse_certificate((tmp_path / "r1.txt").read_text()).key_id == certificate.key_id
    renewed = parse_certificate(run(db, "recorders", "renew", "ACME", "R1"))
    assert renewed.key_id != certificate.key_id
    assert f"key={renewed.key_id}" in run(db, "recorders", "list", "ACME")


def test_a_plain_file_path_is_an_sqlite_database(tmp_path):
    """``--db server.db`` (no URL scheme) failed with peewee's 「Unrecognized or unsupported scheme」."""
    done = subprocess.run([sys.executable, "-m", "dakoku_server.cli", "--db", "plain.sqlite", "init", "--url",
                           "https://attendance.example.jp:8443/"], cwd=tmp_path, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "plain.sqlite").stat().st_size > 0
    run(str(tmp_path / "plain.sqlite"), "companies", "add", "ACME", "アクメ")   # an absolute path, another process
    assert "ACME" in run(f"sqlite:///{tmp_path / 'plain.sqlite'}", "companies", "list")


def test_cli_errors_are_one_line_not_tracebacks(tmp_path):
    db = f"sqlite:///{tmp_path / 'admin.sqlite'}"
    done = subprocess.run([sys.executable, "-m", "dakoku_server.cli", "--db", db, "departments", "add", "NOPE",
                           "HQ", "x"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "no company 'NOPE'" in done.stderr and "Traceback" not in done.stderr
    done = subprocess.run([sys.executable, "-m", "dakoku_server.cli", "--db", db, "serve", "--port", "1"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "TLS is on by default" in done.stderr
