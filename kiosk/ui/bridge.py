"""The one thread boundary into the UI.

Device, network and disk work runs on worker threads; results reach widgets only through :meth:`post`,
which schedules the call on the Kivy thread. Nothing else in the project calls Clock.schedule_once from
another thread."""
from __future__ import annotations

import logging
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Callable

from kivy.clock import Clock

from dakoku_core.errors import KioskError, unexpected

log = logging.getLogger(__name__)


class UiBridge:
    def __init__(self, workers: int = 1):
        # One worker for the punch path: jobs run in the order people asked for them (punches are never
        # reordered). Slow work (the network, a diagnosis waiting for a tap) has its own worker, so a
        # server that does not answer never holds up the next person's punch.
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="kiosk-worker")
        self._slow = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kiosk-slow")
        # A finger capture can wait for minutes (standby in a time-of-day mode): it has a thread of its own.
        self._device = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kiosk-device")
        self._closed = False

    @staticmethod
    def post(fn: Callable[..., Any], *args: Any) -> None:
        """Run ``fn(*args)`` on the Kivy thread at the next frame. Safe from any thread."""
        Clock.schedule_once(lambda _dt: fn(*args), 0)

    def callback(self, fn: Callable[..., Any]) -> Callable[..., None]:
        """Wrap ``fn`` so that calling it from any thread runs it on the Kivy thread."""
        return lambda *args: self.post(fn, *args)

    def submit(self, job: Callable[[], Any], on_done: Callable[[Any], None],
               on_error: Callable[[KioskError], None], *, slow: bool = False, device: bool = False) -> Future:
        """Run ``job`` off the Kivy thread; its result or catalogue error comes back on the Kivy thread.
        ``slow``: network waits, on the second worker; ``device``: waiting for a finger, on the third."""
        executor = self._device if device else self._slow if slow else self._executor
        if self._closed:
            # The app is stopping: late events (a status refresh as sync stops, a sensor closing) have nobody
            # left to show their result to. Punches never get here: they are submitted while the UI runs.
            log.debug("bridge closed: dropping a background job")
            future = Future()
            future.cancel()
            return future
        future = executor.submit(job)
        future.add_done_callback(lambda f: self._deliver(f, on_done, on_error))
        return future

    def _deliver(self, future: Future, on_done, on_error) -> None:
        exc = future.exception()
        if exc is None:
            self.post(on_done, future.result())
        elif isinstance(exc, KioskError):
            self.post(on_error, exc)
        else:
            log.error("unexpected error in a background job", exc_info=exc)
            self.post(on_error, unexpected(exc))

    def shutdown(self) -> None:
        self._closed = True
        # Punches already submitted finish (they are short and must not be lost); slow work is abandoned.
        self._slow.shutdown(wait=False, cancel_futures=True)
        self._device.shutdown(wait=False, cancel_futures=True)
        self._executor.shutdown(wait=True, cancel_futures=False)
