"""Server at scale (issue 13): ``--kiosks`` simulated kiosks, each with its own recorder key, doing its データ更新
(a full master-data pull) and then uploading a ``--punches`` backlog through the kiosk's own sync code, against
the reference server (gunicorn, ``--workers`` workers, TLS on loopback) on PostgreSQL and on SQLite.

The kiosks and the count: tests/server_pg/kiosk_fleet.py; the provisioning (admin CLI + API) and the server:
tests/server_pg/fleet_setup.py. The generator runs in this process, one thread per kiosk, on the same 2 cores as
the server and the database: its own CPU time is printed (``*_generator_cpu_s``), so the share it took is
visible, and so is the CPU time of the server's processes and of PostgreSQL's (``*_cpu_ms_per_punch``: all three
per punch; ``*_punches_per_s_per_2_idle_cores``: what that CPU cost allows on 2 otherwise idle cores, the figure
to compare when the machine is shared). PostgreSQL is a private cluster with its durable defaults (fsync, synchronous_commit on); SQLite is a
file (WAL, synchronous=FULL). After the run, lost and duplicated punches are counted in the database.
Prints ``server_load_<db>_<name>: value`` lines. Not a test: read the figures (the short form is
tests/server_pg/test_server_load.py).

    python benchmarks/server_load.py [--kiosks 200] [--punches 200] [--ramp 20] [--db pg,sqlite]
"""
from __future__ import annotations

import argparse
import os
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from dakoku_server.db import database  # noqa: E402
from tests.support.server_process import free_port  # noqa: E402
from tests.server_pg.cluster import temporary_cluster  # noqa: E402
from tests.server_pg.fleet_setup import FleetShape, fleet_server, provision  # noqa: E402
from tests.server_pg.kiosk_fleet import count_in_database, drive  # noqa: E402


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def group_cpu(leader: int | None) -> float:
    """CPU seconds so far of a process tree's leader, its process group and its direct children (PostgreSQL's
    backends leave the group: setsid), plus the exited children the leader has reaped (gunicorn's arbiter: its
    workers; the postmaster: the backends of closed connections)."""
    if leader is None:
        return 0.0
    total = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if leader in (int(fields[1]), int(fields[2])) or int(entry) == leader:    # ppid, pgrp
            total += int(fields[11]) + int(fields[12])            # utime, stime
            if int(entry) == leader:
                total += int(fields[13]) + int(fields[14])        # cutime, cstime
    return total / os.sysconf("SC_CLK_TCK")


def measure(name: str, db_url: str, work: Path, args) -> list[str]:
    port = free_port()
    shape = FleetShape(args.kiosks, args.companies, args.employees)
    started = time.perf_counter()
    plans = provision(db_url, work, port, shape)
    provisioned = time.perf_counter() - started
    database.close()
    server = fleet_server(db_url, work, port, workers=args.workers, threads=args.threads)
    server.start()
    groups = {"server": server.process.pid, "database": args.postmaster}
    try:
        before = {name: group_cpu(pid) for name, pid in groups.items()}
        cpu = _cpu()
        run = drive(plans, server.ca_file, punches=args.punches, batch_size=args.batch, ramp=args.ramp)
        generator_cpu = _cpu() - cpu
        used = {name: group_cpu(pid) - before[name] for name, pid in groups.items()}
    finally:
        server.stop()
    count = count_in_database(run)
    database.close()
    elapsed = run.last_answered - run.first_sent
    uploads = [s for kind, s in run.latencies if kind == "punches"]
    pulls = [s for kind, s in run.latencies if kind == "master"]
    p = f"server_load_{name}"
    return [
        f"{p}_kiosks: {len(plans)}", f"{p}_provision_s: {provisioned:.1f}",
        f"{p}_punches_per_s: {count.acknowledged / elapsed:.0f}",
        f"{p}_p95_ms: {_percentile(uploads, 0.95) * 1000:.0f}",
        f"{p}_p50_ms: {_percentile(uploads, 0.50) * 1000:.0f}",
        f"{p}_max_ms: {max(uploads, default=0) * 1000:.0f}",
        f"{p}_master_p95_ms: {_percentile(pulls, 0.95) * 1000:.0f}",
        f"{p}_lost: {count.lost}", f"{p}_duplicated: {count.duplicated}",
        f"{p}_sent: {count.sent}", f"{p}_acknowledged: {count.acknowledged}",
        f"{p}_unacknowledged: {count.unacknowledged}", f"{p}_mismatched: {count.mismatched}",
        f"{p}_stored: {count.stored} {count.stored_statuses}",
        f"{p}_elapsed_s: {elapsed:.1f}", f"{p}_requests: {len(run.latencies)} (attempts {run.attempts})",
        f"{p}_errors: {dict(run.errors)}", f"{p}_generator_cpu_s: {generator_cpu:.1f}",
        f"{p}_server_cpu_s: {used['server']:.1f}", f"{p}_database_cpu_s: {used['database']:.1f}",
        f"{p}_cpu_ms_per_punch: {(generator_cpu + sum(used.values())) * 1000 / max(count.acknowledged, 1):.2f}",
        f"{p}_punches_per_s_per_2_idle_cores: "
        f"{2 * count.acknowledged / max(generator_cpu + sum(used.values()), 1e-9):.0f}",
        f"{p}_load_average_1min: {os.getloadavg()[0]:.1f}",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kiosks", type=int, default=200)
    parser.add_argument("--punches", type=int, default=200, help="backlog per kiosk")
    parser.add_argument("--batch", type=int, default=500, help="the kiosk sync's batch size (its default 500)")
    parser.add_argument("--ramp", type=float, default=20.0, help="seconds over which the kiosks start (0: at once)")
    parser.add_argument("--companies", type=int, default=10)
    parser.add_argument("--employees", type=int, default=10, help="employees per kiosk (its department)")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--db", default="pg,sqlite", help="comma-separated: pg, sqlite")
    args = parser.parse_args()
    print(f"server_load_shape: {args.kiosks} kiosks x {args.punches} punches, batch {args.batch}, ramp "
          f"{args.ramp:g} s, {args.workers} workers x {args.threads} threads", flush=True)
    for name in args.db.split(","):
        work = Path(tempfile.mkdtemp(prefix=f"server-load-{name}-"))
        try:
            if name == "pg":
                with temporary_cluster(durable=True, max_connections=100) as cluster:
                    args.postmaster = int((cluster.directory / "data" / "postmaster.pid").read_text().split()[0])
                    lines = measure(name, cluster.url("dakoku"), work, args)
            else:
                args.postmaster = None
                lines = measure(name, f"sqlite:///{work / 'server.sqlite'}", work, args)
        finally:
            shutil.rmtree(work, ignore_errors=True)
        print("\n".join(lines), flush=True)


if __name__ == "__main__":
    main()
