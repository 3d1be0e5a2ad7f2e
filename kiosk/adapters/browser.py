"""The Browser port: タイムカード / 出勤状況 open in a real web browser, started as a detached child.

Python's ``webbrowser`` is not used: on a kiosk without a browser it picks ``gio`` or ``xdg-open``, which exist
but cannot open anything, so it reported success and left a defunct ``gio``. The browser is chosen, in order:

1. the device setting ``display.browser`` (a command; ``%s`` marks the URL, else the URL is appended);
2. ``$BROWSER`` (the same form; the first of a ``:``-separated list that exists);
3. a browser executable on ``PATH`` (:data:`KNOWN_BROWSERS`, Debian's ``x-www-browser`` first);
4. ``xdg-open`` or ``gio open``, only when the desktop has a handler for ``https`` registered
   (``xdg-mime query default x-scheme-handler/https`` or ``gio mime x-scheme-handler/https`` names one).

None of these → 「エラーを特定できません」 (browser_missing). The chosen command cannot be executed, or exits at once
with an error status → 「予期せぬ例外が発生しました」 (browser_unexpected). A browser still running after
:data:`START_GRACE` seconds has started; a thread waits for it, so it never stays a zombie."""
from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import threading

from dakoku_core.errors import KioskError, Situation

KNOWN_BROWSERS = ("x-www-browser", "firefox", "firefox-esr", "chromium", "chromium-browser", "google-chrome",
                  "google-chrome-stable", "microsoft-edge", "brave-browser", "vivaldi", "epiphany", "falkon",
                  "konqueror", "midori")
START_GRACE = 1.0      # seconds: a browser that fails fails at once (missing display, bad profile, bad option)
QUERY_TIMEOUT = 5.0    # seconds for the handler queries
BROWSER = Situation.BROWSER


class SystemBrowser:
    def __init__(self, command: str = "", *, env: dict[str, str] | None = None):
        self._command = command.strip()
        self._env = env   # None: this process's environment, read at each open (tests pass their own)

    def open(self, url: str) -> None:
        argv = self.command_for(url)
        if argv is None:
            raise KioskError("browser_missing", situation=BROWSER, detail="no web browser found")
        start(argv, None if self._env is None else dict(self._env))

    def command_for(self, url: str) -> list[str] | None:
        """The argv that opens ``url``, or None when this machine has no browser."""
        env = os.environ if self._env is None else self._env
        path = env.get("PATH", os.defpath)
        for command in [self._command, *env.get("BROWSER", "").split(":")]:
            argv = _argv(command, url, path)
            if argv is not None:
                return argv
        for name in KNOWN_BROWSERS:
            found = shutil.which(name, path=path)
            if found:
                return [found, url]
        return _desktop_opener(url, path, env)


def start(argv: list[str], env: dict[str, str] | None = None) -> None:
    """Start the browser detached from the kiosk's session; report a failure to start."""
    try:
        child = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                 stderr=subprocess.PIPE, start_new_session=True, close_fds=True, env=env)
    except OSError as exc:   # not executable, not a program, vanished since it was found
        raise KioskError("browser_unexpected", situation=BROWSER, detail=f"{argv[0]}: {exc}") from None
    try:
        status = child.wait(timeout=START_GRACE)
    except subprocess.TimeoutExpired:   # still running: it started; reap it whenever it ends
        threading.Thread(target=_reap, args=(child,), name="browser-reaper", daemon=True).start()
        return
    errors = child.stderr.read().decode(errors="replace").strip() if child.stderr else ""
    if child.stderr:
        child.stderr.close()
    if status != 0:
        raise KioskError("browser_unexpected", situation=BROWSER,
                         detail=f"{argv[0]} exited with status {status}: {errors[-300:]}")


def _reap(child: subprocess.Popen) -> None:
    if child.stderr:
        for _ in child.stderr:   # drain, so a chatty browser never blocks on a full pipe
            pass
        child.stderr.close()
    child.wait()


def _argv(command: str, url: str, path: str) -> list[str] | None:
    try:
        parts = shlex.split(command)
    except ValueError:
        return None
    if not parts:
        return None
    program = parts[0] if os.sep in parts[0] and os.path.exists(parts[0]) else shutil.which(parts[0], path=path)
    if program is None:
        return None
    args = [a.replace("%s", url) for a in parts[1:]]
    return [program, *args] if any("%s" in a for a in parts[1:]) else [program, *args, url]


def _desktop_opener(url: str, path: str, env) -> list[str] | None:
    xdg_open, xdg_mime = shutil.which("xdg-open", path=path), shutil.which("xdg-mime", path=path)
    if xdg_open and xdg_mime and _query([xdg_mime, "query", "default", "x-scheme-handler/https"], env).strip():
        return [xdg_open, url]
    gio = shutil.which("gio", path=path)
    if gio and _query([gio, "mime", "x-scheme-handler/https"], env).startswith("Default application"):
        return [gio, "open", url]
    return None


def _query(argv: list[str], env) -> str:
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=QUERY_TIMEOUT, env=dict(env))
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return out.stdout if out.returncode == 0 else ""
