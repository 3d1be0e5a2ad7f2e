"""packaging/server: the systemd units pass ``systemd-analyze verify``; the PostgreSQL set-up gives a role that
owns its database and nobody else can connect to it; a backup (backup.sh) is rotated, private and restores.

The units name the installed paths (/opt/dakoku-server/...); verify checks that each command exists, so the test
points them at this checkout (its .venv and packaging/server) in a copy. The database parts run against a private
throw-away cluster (tests/server_pg/cluster.py)."""
from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from tests.server_pg.cluster import ClusterUnavailable, check_available, temporary_cluster

ROOT = Path(__file__).resolve().parents[2]
SERVER = ROOT / "packaging" / "server"
UNITS = ("dakoku-server.service", "dakoku-server-backup.service", "dakoku-server-backup.timer")


def _installed_here(tmp_path: Path) -> Path:
    """The units with /opt/dakoku-server pointing at this checkout (venv and packaging/server)."""
    venv = Path(sys.executable).parent.parent
    out = tmp_path / "units"
    out.mkdir()
    for name in UNITS:
        text = (SERVER / name).read_text("utf-8")
        text = text.replace("/opt/dakoku-server/.venv", str(venv)).replace("/opt/dakoku-server", str(ROOT))
        (out / name).write_text(text, "utf-8")
    return out


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze not installed")
def test_units_pass_systemd_analyze_verify(tmp_path):
    units = _installed_here(tmp_path)
    done = subprocess.run(["systemd-analyze", "verify", "--man=no", *(str(units / n) for n in UNITS)],
                          capture_output=True, text=True, timeout=60)
    ours = [line for line in (done.stdout + done.stderr).splitlines() if "dakoku" in line]
    assert done.returncode == 0 and not ours, done.stdout + done.stderr


def test_the_service_runs_the_projects_nginx_front_in_a_private_runtime_dir():
    """One nginx configuration: the one kiosk-server writes (dakoku_server/front_proxy.py), in the service's
    private runtime directory; no second config in packaging/server."""
    unit = (SERVER / "dakoku-server.service").read_text("utf-8")
    command = unit.split("ExecStart=", 1)[1].split("\n# ", 1)[0]
    assert "--front-proxy nginx" in command and "--runtime-dir ${RUNTIME_DIRECTORY}" in command
    assert "RuntimeDirectoryMode=0700" in unit and "EnvironmentFile=/etc/dakoku-server/server.env" in unit
    assert "--workers 4" in command and "postgresql://" not in unit          # the URL only in the env file
    assert not [p for p in SERVER.iterdir() if "nginx" in p.name or p.suffix == ".conf"]


@pytest.fixture(scope="module")
def cluster():
    try:
        check_available()
    except ClusterUnavailable as exc:
        pytest.skip(str(exc))
    with temporary_cluster() as running:
        yield running


def _psql(cluster, *args: str, user: str = "postgres", password: str | None = None, dbname: str = "postgres",
          check: bool = True) -> subprocess.CompletedProcess:
    env = {**os.environ, "PGPASSWORD": password or cluster.password}
    done = subprocess.run([os.path.join(cluster.bindir, "psql"), "-X", "-h", "127.0.0.1", "-p", str(cluster.port),
                           "-U", user, "-d", dbname, "-v", "ON_ERROR_STOP=1", *args],
                          capture_output=True, text=True, env=env, timeout=60)
    if check and done.returncode != 0:
        raise AssertionError(done.stdout + done.stderr)
    return done


def _set_up(cluster, role: str, db: str) -> str:
    """postgresql-setup.sql twice (idempotent); a password for the test's TCP login (production: peer)."""
    for _ in range(2):
        _psql(cluster, "-v", f"role={role}", "-v", f"db={db}", "-f", str(SERVER / "postgresql-setup.sql"))
    _psql(cluster, "-c", f"ALTER ROLE {role} PASSWORD 'pw-{role}'")
    return f"postgresql://{role}:pw-{role}@127.0.0.1:{cluster.port}/{db}"


def test_setup_gives_a_plain_owner_role_and_nobody_else_connects(cluster):
    role, db = f"srv_{uuid.uuid4().hex[:6]}", f"dk_{uuid.uuid4().hex[:6]}"
    url = _set_up(cluster, role, db)
    flags = _psql(cluster, "-Atc", f"SELECT rolsuper, rolcreatedb, rolcreaterole FROM pg_roles "
                                   f"WHERE rolname = '{role}'").stdout.strip()
    owner = _psql(cluster, "-Atc", f"SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = '{db}'")
    assert flags == "f|f|f" and owner.stdout.strip() == role
    subprocess.run([sys.executable, "-m", "dakoku_server.cli", "--db", url, "init"], check=True, timeout=120,
                   capture_output=True)
    tables = _psql(cluster, "-Atc", "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'",
                   user=role, password=f"pw-{role}", dbname=db)
    assert int(tables.stdout) >= 10
    _psql(cluster, "-c", "CREATE ROLE intruder LOGIN PASSWORD 'x'")
    refused = _psql(cluster, "-c", "SELECT 1", user="intruder", password="x", dbname=db, check=False)
    assert refused.returncode != 0 and "permission denied for database" in refused.stderr


def test_backups_are_private_rotated_and_restore(cluster, tmp_path):
    role, db = f"srv_{uuid.uuid4().hex[:6]}", f"dk_{uuid.uuid4().hex[:6]}"
    url = _set_up(cluster, role, db)
    subprocess.run([sys.executable, "-m", "dakoku_server.cli", "--db", url, "companies", "add", "ACME", "アクメ"],
                   check=True, timeout=120, capture_output=True)
    env = {**os.environ, "PATH": f"{cluster.bindir}:{os.environ['PATH']}",
           "DAKOKU_SERVER_DB": url.replace("postgresql://", "postgresql+pool://") + "?max_connections=4&timeout=5"}
    backups = tmp_path / "backups"
    made = []
    for n in range(3):
        done = subprocess.run(["sh", str(SERVER / "backup.sh"), "--dir", str(backups), "--keep", "2"], env=env,
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        made.append(done.stdout.strip())
        if n < 2:
            subprocess.run(["sleep", "1.1"])                 # names carry the second
    kept = sorted(p.name for p in backups.iterdir())
    assert kept == sorted(Path(m).name for m in made[1:]), kept            # the oldest went, no partial file
    assert stat.S_IMODE(backups.stat().st_mode) == 0o700
    assert all(stat.S_IMODE((backups / k).stat().st_mode) == 0o600 for k in kept)
    _psql(cluster, "-c", f"CREATE DATABASE restored_{db} OWNER {role}")
    subprocess.run([os.path.join(cluster.bindir, "pg_restore"), "--no-owner", "-h", "127.0.0.1", "-p",
                    str(cluster.port), "-U", role, "-d", f"restored_{db}", made[-1]],
                   env={**os.environ, "PGPASSWORD": f"pw-{role}"}, check=True, capture_output=True, timeout=120)
    restored = _psql(cluster, "-Atc", "SELECT code FROM company", user=role, password=f"pw-{role}",
                     dbname=f"restored_{db}")
    assert restored.stdout.split() == ["ACME"]
