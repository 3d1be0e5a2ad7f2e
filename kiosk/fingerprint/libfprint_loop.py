"""The GLib loop thread of the libfprint adapter: every libfprint call runs on it; callers block with a deadline.

It has to run GLib's *global default* main context: ``fp_context_enumerate`` iterates
``g_main_context_iteration(NULL)`` itself, so on a private context it never returns. Hence one loop (one
``LibfprintSensor``) per process at a time; nothing else in the kiosk uses GLib (Kivy runs on SDL2).
"""
from __future__ import annotations

import threading
from typing import Any, Callable

from kiosk.fingerprint.sensor import init_failed

CALL_TIMEOUT = 10.0                # open / close / enumerate on the loop thread
_LOOP_OWNER = threading.Lock()     # held while a loop thread runs the global default main context


def load_fprint():
    """Import PyGObject and the FPrint 2.0 typelib, or raise ``device_init_failed``."""
    try:
        import gi
        gi.require_version("FPrint", "2.0")
        from gi.repository import FPrint, Gio, GLib
    except (ImportError, ValueError) as exc:
        raise init_failed(f"libfprint via PyGObject is not available: {exc!r} (needs pip PyGObject and apt "
                          "gir1.2-fprint-2.0 libfprint-2-2)") from exc
    return FPrint, GLib, Gio


class Result:
    """A one-shot result handed from the loop thread to a blocked caller."""

    def __init__(self) -> None:
        self._done = threading.Event()
        self.value: Any = None
        self.error: BaseException | None = None

    def set(self, value: Any = None, error: BaseException | None = None) -> None:
        self.value, self.error = value, error
        self._done.set()

    def wait(self, timeout: float | None) -> bool:
        return self._done.wait(timeout)


class GLibLoopThread:
    """A daemon thread running the global default GLib main context until :meth:`stop`."""

    def __init__(self, GLib) -> None:
        self._GLib = GLib
        if not _LOOP_OWNER.acquire(blocking=False):
            raise init_failed("another LibfprintSensor is running; close it first")
        self._main = GLib.MainContext.default()
        self._loop = GLib.MainLoop.new(self._main, False)
        started = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(started,), name="libfprint-loop", daemon=True)
        self._thread.start()
        if not started.wait(CALL_TIMEOUT) or not self._thread.is_alive():
            raise init_failed("the libfprint loop thread did not start")

    def _run(self, started: threading.Event) -> None:
        try:
            self.post(started.set)
            self._loop.run()
        finally:
            started.set()
            _LOOP_OWNER.release()

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def on_loop(self) -> bool:
        return threading.current_thread() is self._thread

    def post(self, fn: Callable[[], Any]) -> None:
        """Run ``fn()`` on the loop thread without waiting (libfprint is not thread-safe)."""
        source = self._GLib.idle_source_new()
        source.set_callback(lambda *_: (fn(), False)[1])
        source.attach(self._main)

    def call(self, fn: Callable[[Result], None], timeout: float = CALL_TIMEOUT) -> Any:
        """Run ``fn(result)`` on the loop thread; it (or a callback it starts) must ``result.set(...)``."""
        if not self.alive:
            raise init_failed("the libfprint loop is not running")
        res = Result()

        def step() -> None:
            try:
                fn(res)
            except BaseException as exc:  # noqa: BLE001 - handed to the caller
                res.set(error=exc)

        self.post(step)
        if not res.wait(timeout):
            raise init_failed(f"libfprint did not answer within {timeout:g} s")
        if res.error is not None:
            raise res.error
        return res.value

    def stop(self) -> None:
        if self.alive:
            self.post(self._loop.quit)
            self._thread.join(CALL_TIMEOUT)
