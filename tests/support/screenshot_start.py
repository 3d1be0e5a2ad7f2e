"""Start a built kiosk (an installed venv's ``kiosk``, or the frozen bundle) offscreen on the demo, let it render
the standby screen to a PNG and stop: how long it took to ``READY=1`` (sd_notify, on a socket of our own), what it
printed, and the PNGs it wrote. Shared by tests/packaging's install and bundle tests."""
from __future__ import annotations

import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Started:
    returncode: int
    ready: str           # the first sd_notify message ("READY=1 ...") or "" when none came
    ready_s: float       # from spawning to that message
    output: str          # stdout and stderr
    pngs: list[Path]     # standby*.png it wrote, oldest name first

    @property
    def rendered(self) -> bool:
        return self.returncode == 0 and bool(self.pngs) and self.ready.startswith("READY=1")


def start_and_screenshot(program: Path, env: dict, folder: Path, timeout: float = 240) -> Started:
    """``program demo --offline --screenshot`` in ``folder`` with ``env`` plus its own NOTIFY_SOCKET."""
    notify_path = folder / "notify"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as notify:
        notify.bind(str(notify_path))
        notify.settimeout(180)
        started = time.monotonic()
        proc = subprocess.Popen([str(program), "demo", "--offline", "--data-dir", str(folder / "data"),
                                 "--screenshot", str(folder / "standby.png")],
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                env=dict(env, NOTIFY_SOCKET=str(notify_path)), cwd=folder)
        try:
            ready = notify.recv(4096).decode()
        except TimeoutError:
            ready = ""
        ready_s = time.monotonic() - started
        output, _ = proc.communicate(timeout=timeout)
    return Started(proc.returncode, ready, ready_s, output, sorted(folder.glob("standby*.png")))


def distinct_colours(png: Path) -> int:
    from PIL import Image

    with Image.open(png) as image:
        return len(image.convert("RGB").getcolors(maxcolors=1 << 20) or [])
