"""Card tap → confirmation frame drawn, on the real KioskApp rendered offscreen, with N cached employees.

    python benchmarks/tap_latency.py [--taps 60] [--employees 10000]

In-process, as tests/kivy_harness.py does: the real Kiosk (build_kiosk on a data directory prepared by
kiosk_data.py: SQLite ledger on disk, simulated reader whose taps arrive on its own thread like a PC/SC
reader's, the real KivySound), the real KioskApp attached to an offscreen window (Mesa llvmpipe), driven by
``EventLoop.idle()``: the main loop's own iteration (it waits for the next frame at Kivy's 60 fps cap, as a
running kiosk does). Each tap is a different employee's card (no re-authentication refusal).

Two paths, each ``--taps`` times:
- tap_to_confirmation: 出勤 touched first (the punch screen waits), then the card; from ``reader.tap`` to the
  first frame showing the result (punch screen phase "done") whose swap (``Window.flip``) has returned.
- auto_tap_to_confirmation: モード (auto_modes covering the whole day), a bare tap on standby; from the tap to the
  first frame drawn with the punch screen current and showing the result, and ``_settled`` to the first frame
  after any screen transition ended (the kiosk changes screens at once since issue 12's performance work: the
  two are then the same frame).
The confirmation's 取り消し window is off (undo_seconds=0) so that each confirmation returns in 0.5 s.
tap_to_result_set: from the tap to the punch screen showing the result on the Kivy thread (reader thread, bridge,
the punch on the worker, back through the bridge): the kiosk's share, before any drawing.
frame_draw: from ``on_draw`` to the swap's return (the whole frame) while measuring: here it is
software GL (Mesa llvmpipe) on a shared 2-core machine, which is most of the latency above.
Prints ``name: value unit`` lines (p50 / p95 / max). Not a test: read the figures, don't assert them.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))


def percentile(values: list[float], pct: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[pct - 1]


def setup_window():
    os.environ.setdefault("KIVY_HOME", tempfile.mkdtemp(prefix="kivy-home-"))
    os.environ.setdefault("KIVY_NO_CONSOLELOG", "1")
    os.environ.setdefault("KIVY_NO_FILELOG", "1")
    from kiosk.settings import DisplaySettings
    from kiosk.ui.window import configure_kivy

    configure_kivy(DisplaySettings(fullscreen=False, width=1280, height=800), windowed=True)
    from kivy.base import EventLoop
    from kivy.core.window import Window

    EventLoop.ensure_window()
    return Window


class FlipWatch:
    """Times the first frame swapped after ``arm()`` for which ``shown()`` holds (and a later one settled).
    A frame counts as drawn when the window's ``flip()`` (the buffer swap) and a ``glFinish()`` (the
    rasteriser done) have returned; the drawing starts at ``on_draw`` (bound handlers run before the window's own).

    Every frame is finished, measured or not, as a display's swap finishes it. SDL's offscreen window swaps
    nothing: llvmpipe then leaves the frames it was given unfinished, and the next label texture upload (a new text:
    ``Texture.blit_buffer``, which waits for the texture to be idle) paid for all of them on the Kivy thread. That was
    the "slow frames" of 0.7-1.7 s in this benchmark and most of the time-of-day path's delay (docs/performance.md:
    the same run without it took twice the CPU; on an X display, Xvfb + GLX, the kiosk has no such frames)."""

    def __init__(self, window):
        from kivy.graphics.opengl import glFinish

        self.window, self._flip, self._finish = window, window.flip, glFinish
        self.shown = self.settled = None
        self.started = self.first = self.done = self.result = None
        self.drawing, self.draw_ms = 0.0, []
        window.bind(on_draw=self._drawing)
        window.flip = self._flipped

    def close(self) -> None:
        self.window.unbind(on_draw=self._drawing)
        del self.window.flip   # the class's own again

    def arm(self, shown, settled=None) -> None:
        self.shown, self.settled, self.first, self.done, self.result = shown, settled, None, None, None
        self.started = time.monotonic()

    def result_set(self, _screen, phase: str) -> None:   # the punch screen's phase, set on the Kivy thread
        if phase == "done" and self.shown is not None and self.result is None:
            self.result = time.monotonic()

    def _drawing(self, *_args) -> None:
        self.drawing = time.monotonic()

    def _flipped(self) -> None:
        self._flip()
        self._finish()   # an offscreen swap does not wait for the rasteriser: now the pixels are done
        if self.shown is None:
            return
        now = time.monotonic()
        self.draw_ms.append((now - self.drawing) * 1000)
        if self.first is None and self.shown():
            self.first = now
        if self.first is not None and self.done is None and (self.settled is None or self.settled()):
            self.done = now


def run_app(window, data_dir: Path, first_card: int, taps: int, auto: bool) -> tuple[list, list, list, list]:
    import kivy_harness
    from kivy_harness import advance, touch, wait_until

    kivy_harness.FRAME_FLOOR = 0   # the main loop's own pace (the tests' floor is for their fixed frame counts)

    from kiosk.app_factory import build_kiosk
    from dakoku_core.domain.model import PunchKind
    from kiosk.settings import DisplaySettings, ReaderSettings, Settings
    from kiosk.ui.app import KioskApp
    from kiosk_data import card_id

    modes = [{"start": "00:00", "end": "23:59", "kind": "clock_in"}] if auto else []
    kiosk = build_kiosk(Settings(data_dir=data_dir, reader=ReaderSettings(backend="simulated"), display=DisplaySettings(
        fullscreen=False, confirmation_seconds=0.5, undo_seconds=0, auto_modes=modes)))
    app = KioskApp(kiosk)
    app.root = app.build()
    window.add_widget(app.root)
    app.on_start()
    watch, first, settled, result = FlipWatch(window), [], [], []
    app.punch_screen.bind(phase=watch.result_set)
    try:
        wait_until(lambda: app.reader_state is not None)
        advance(30)
        # steady state: the master data, loaded on the punch worker once standby is drawn (about 1 s for 10,000
        # employees), is in memory; a no-op through the same worker returns after it (cold start: kiosk_start.py)
        idle: list = []
        app.bridge.submit(lambda: None, idle.append, idle.append)
        wait_until(lambda: idle, timeout=120)
        for n in range(first_card, first_card + taps):
            wait_until(lambda: app.manager.current == "standby" and not app.manager.transition.is_active)
            if not auto:
                touch(app.standby.punch_button(PunchKind.CLOCK_IN))
                wait_until(lambda: app.punch_screen.phase == "wait" and not app.manager.transition.is_active)
            advance(5)
            watch.arm(lambda: app.manager.current == "punch" and app.punch_screen.phase == "done",
                      lambda: not app.manager.transition.is_active)
            kiosk.reader.tap(card_id(n))
            wait_until(lambda: watch.done is not None)
            first.append((watch.first - watch.started) * 1000)
            settled.append((watch.done - watch.started) * 1000)
            result.append((watch.result - watch.started) * 1000)
            watch.shown = None
        wait_until(lambda: kiosk.punches.count() >= taps)
        assert app.punch_screen.headline.startswith("試験"), app.punch_screen.headline
    finally:
        watch.close()
        app.presenter.dismiss()
        advance(2)
        app.on_stop()
        window.remove_widget(app.root)
        kiosk.close()
    return first, settled, watch.draw_ms, result


def report(name: str, values: list[float]) -> None:
    print(f"{name}_p50: {percentile(values, 50):.1f} ms")
    print(f"{name}_p95: {percentile(values, 95):.1f} ms")
    print(f"{name}_max: {max(values):.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--taps", type=int, default=60)
    parser.add_argument("--employees", type=int, default=10_000)
    args = parser.parse_args()
    from kiosk_data import prepare

    window = setup_window()
    with tempfile.TemporaryDirectory(prefix="tap-latency-") as tmp:
        data_dir = prepare(Path(tmp) / "data", max(args.employees, 2 * args.taps))
        load_before = os.getloadavg()[0]
        chosen, _, draws, chosen_result = run_app(window, data_dir, 0, args.taps, auto=False)
        auto_first, auto_settled, auto_draws, auto_result = run_app(window, data_dir, args.taps, args.taps, auto=True)
        load_after = os.getloadavg()[0]
    print(f"taps: {args.taps} count")
    report("tap_to_confirmation", chosen)
    report("tap_to_result_set", chosen_result)
    report("auto_tap_to_confirmation", auto_first)
    report("auto_tap_to_confirmation_settled", auto_settled)
    report("auto_tap_to_result_set", auto_result)
    report("frame_draw", draws + auto_draws)   # Window.on_draw of every frame while measuring (llvmpipe here)
    print(f"loadavg_1min_before: {load_before:.2f}")
    print(f"loadavg_1min_after: {load_after:.2f}")


if __name__ == "__main__":
    main()
