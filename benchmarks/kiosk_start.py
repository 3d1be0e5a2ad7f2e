"""Cold start to the first standby frame drawn, and idle RSS, of the real kiosk with N cached employees.

    python benchmarks/kiosk_start.py [--employees 10000] [--runs 3] [--settle 15]

Each run starts a new process, ``python benchmarks/kiosk_start.py --child DATA_DIR`` = ``kiosk run --data-dir
DATA_DIR --size 1280x800`` (kiosk.cli.main, unchanged) on a data directory prepared by kiosk_data.py, rendered by
SDL's offscreen driver (real GL on Mesa llvmpipe) when there is no DISPLAY. The only addition in the child: once
the app has started, the first frame with the standby screen current whose swap (``Window.flip``, then glFinish)
returned sends ``FRAME=1`` to the benchmark's socket; the kiosk's own ``READY=1`` (sd_notify at on_start,
kiosk/adapters/watchdog.py) arrives on the same socket. Times are from just before the process is spawned to
each message's arrival, so the interpreter's start and every import count.

Figures (``name: value unit``): kiosk_cold_start (first run; the page cache is warm from the preparation, and
nothing is dropped: that needs root), kiosk_cold_start_median over the runs, kiosk_ready_notify_median (READY=1),
then kiosk_idle_rss_N: VmRSS of the last run once it has been stable for 3 s (at most ``--settle`` s after the
frame), with VmHWM (peak) and its anonymous / file-backed parts (RssAnon: heaps, GL buffers; RssFile: mapped
libraries and fonts, shared with other processes) beside it, and kiosk_idle_cpu_N: CPU use over the next 5 s.
``--bare``: the same for the toolkit alone (configure_kivy, the kiosk's fonts, one KivyMD label; no kiosk, no
ledger): toolkit_only_start_median, toolkit_only_idle_rss(_anon). Not a test: read the figures, don't assert them.
"""
from __future__ import annotations

import argparse
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def child(data_dir: str) -> int:
    """The kiosk itself, plus one hook that says when the standby screen's first frame was drawn."""
    from kiosk import cli
    from kiosk.ui import launcher

    original = launcher._housekeeping

    def housekeeping_and_first_frame(app) -> None:
        original(app)
        app.bind(on_start=lambda *_: said_after_first_frame(
            lambda: getattr(app, "manager", None) is not None and app.manager.current == "standby"))

    launcher._housekeeping = housekeeping_and_first_frame
    return cli.main(["run", "--data-dir", data_dir, "--size", "1280x800"])


def said_after_first_frame(shown) -> None:
    """``FRAME=1`` to $NOTIFY_SOCKET once a frame for which ``shown()`` holds has been swapped (``Window.flip``
    returned, and ``glFinish()``: the rasteriser has finished it)."""
    from kivy.core.window import Window
    from kivy.graphics.opengl import glFinish

    flip = Window.flip

    def flipped() -> None:
        flip()
        if shown():
            glFinish()   # an offscreen (pbuffer) swap does not wait for the rasteriser
            del Window.flip   # the class's own again
            with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
                sock.sendto(b"FRAME=1", os.environ["NOTIFY_SOCKET"])
    Window.flip = flipped


def bare_child() -> int:
    """For comparison: the toolkit alone (configure_kivy, the kiosk's fonts, one KivyMD label), same hook."""
    from kiosk.settings import DisplaySettings
    from kiosk.ui.window import configure_kivy

    configure_kivy(DisplaySettings(fullscreen=False, width=1280, height=800), windowed=True)
    from kivymd.app import MDApp
    from kivymd.uix.label import MDLabel

    from kiosk.ui.fonts import register_fonts

    class Bare(MDApp):
        def build(self):
            register_fonts()
            return MDLabel(text="出勤 12:34:56", halign="center")

        def on_start(self):
            said_after_first_frame(lambda: True)

    signal.signal(signal.SIGTERM, lambda *_: Bare.get_running_app().stop())
    Bare().run()
    return 0


def vm_status(pid: int) -> dict[str, int]:
    """VmRSS / VmHWM / RssAnon / RssFile in kB from /proc/<pid>/status."""
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM", "RssAnon", "RssFile"):
            values[key] = int(rest.split()[0])
    return values


def settled_rss(pid: int, limit: float) -> dict[str, int]:
    """Sample every 0.5 s until VmRSS moved less than 1 MB over the last 3 s (or ``limit`` s passed)."""
    samples, deadline = [], time.monotonic() + limit
    while time.monotonic() < deadline:
        samples.append(vm_status(pid))
        recent = [s["VmRSS"] for s in samples[-7:]]
        if len(recent) == 7 and max(recent) - min(recent) < 1024:
            break
        time.sleep(0.5)
    return samples[-1]


def idle_cpu(pid: int, seconds: float = 5.0) -> float:
    """The process's CPU use (user + system, % of one core) over ``seconds`` of standby."""
    def ticks() -> int:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])   # utime, stime
    before, started = ticks(), time.monotonic()
    time.sleep(seconds)
    return (ticks() - before) / os.sysconf("SC_CLK_TCK") / (time.monotonic() - started) * 100


def one_run(data_dir: Path, work: Path, settle: float | None,
            mode: str = "--child") -> tuple[dict[str, float], dict[str, float]]:
    path = str(work / f"notify-{time.monotonic_ns()}")
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind(path)
        sock.settimeout(1.0)
        env = dict(os.environ, NOTIFY_SOCKET=path, KIVY_NO_CONSOLELOG="1", KIVY_HOME=str(work / "kivy"))
        started = time.monotonic()
        proc = subprocess.Popen([sys.executable, __file__, mode, str(data_dir)], env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        seen: dict[str, float] = {}
        try:
            while "FRAME" not in seen:
                if proc.poll() is not None:
                    raise SystemExit(f"the kiosk exited ({proc.returncode}) before drawing standby: "
                                     f"see {data_dir / 'logs'}")
                try:
                    message = sock.recv(4096).decode()
                except TimeoutError:
                    continue
                name = message.split("=", 1)[0]
                seen.setdefault(name, time.monotonic() - started)
            memory = settled_rss(proc.pid, settle) if settle else {}
            if settle:
                memory["cpu"] = idle_cpu(proc.pid)
        finally:
            proc.send_signal(signal.SIGTERM)   # the launcher stops the app and closes the ledger
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
    return seen, memory


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--child":
        sys.exit(child(sys.argv[2]))
    if len(sys.argv) == 3 and sys.argv[1] == "--child-bare":
        sys.exit(bare_child())
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--employees", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--settle", type=float, default=15.0, help="at most this long for RSS to settle (s)")
    parser.add_argument("--bare", action="store_true", help="also the toolkit alone: Kivy+KivyMD, fonts, a label")
    args = parser.parse_args()
    from kiosk_data import prepare

    with tempfile.TemporaryDirectory(prefix="kiosk-start-") as tmp:
        work = Path(tmp)
        data_dir = prepare(work / "data", args.employees)
        load_before = os.getloadavg()[0]
        runs = [one_run(data_dir, work, args.settle if n == args.runs - 1 else None) for n in range(args.runs)]
        bare = [one_run(data_dir, work, args.settle if n == args.runs - 1 else None, "--child-bare")
                for n in range(args.runs if args.bare else 0)]
        load_after = os.getloadavg()[0]
    frames = [seen["FRAME"] for seen, _ in runs]
    ready = [seen["READY"] for seen, _ in runs if "READY" in seen]
    memory = runs[-1][1]
    n = args.employees
    print(f"kiosk_cold_start: {frames[0]:.2f} s")
    print(f"kiosk_cold_start_median: {statistics.median(frames):.2f} s")
    print(f"kiosk_cold_start_max: {max(frames):.2f} s")
    if ready:
        print(f"kiosk_ready_notify_median: {statistics.median(ready):.2f} s")
    print(f"kiosk_idle_rss_{n}: {memory['VmRSS'] / 1024:.1f} MB")
    print(f"kiosk_peak_rss_{n}: {memory['VmHWM'] / 1024:.1f} MB")
    print(f"kiosk_idle_cpu_{n}: {memory['cpu']:.0f} % of one core")
    print(f"kiosk_idle_rss_anon_{n}: {memory['RssAnon'] / 1024:.1f} MB")
    print(f"kiosk_idle_rss_file_{n}: {memory['RssFile'] / 1024:.1f} MB")
    if bare:
        print(f"toolkit_only_start_median: {statistics.median(seen['FRAME'] for seen, _ in bare):.2f} s")
        print(f"toolkit_only_idle_rss: {bare[-1][1]['VmRSS'] / 1024:.1f} MB")
        print(f"toolkit_only_idle_cpu: {bare[-1][1]['cpu']:.0f} % of one core")
        print(f"toolkit_only_idle_rss_anon: {bare[-1][1]['RssAnon'] / 1024:.1f} MB")
    print(f"runs: {args.runs} count")
    print(f"loadavg_1min_before: {load_before:.2f}")
    print(f"loadavg_1min_after: {load_after:.2f}")


if __name__ == "__main__":
    main()
