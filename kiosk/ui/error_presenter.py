"""The error presenter: one modal, keyed by catalogue key; errors queue, they never stack.

On the punch path an error dismisses itself after a few seconds so that the kiosk returns to standby. It never
closes under a finger: a touch on the dialog gives it more time, and for a moment after it closed by itself a
shield over its place swallows the tap that was aimed at 閉じる (else it would land on the keypad underneath).
A lockout (an error whose message counts ``{seconds}`` or ``{minutes}``) counts down in its message, and closes
when the lockout is over; the line 「N 秒後に閉じます」 is then not shown (one countdown, not two). A remedy
with a page in docs/remedies shows that page's short URL and QR code (see docs/remedies/README.md).
All timing reads ``now`` (monotonic seconds), so tests move the clock instead of sleeping."""
from __future__ import annotations

import logging
import math
import time
from collections import deque
from typing import Callable

from kivy.clock import Clock
from kivy.core.window import Window
from kivy.graphics.texture import Texture
from kivy.properties import BooleanProperty, NumericProperty, ObjectProperty, StringProperty
from kivy.uix.modalview import ModalView
from kivy.uix.widget import Widget

from dakoku_core.errors import KioskError
from kiosk.ui import format as fmt
from kiosk.ui import wrap_label  # noqa: F401  (WrapLabel, used by kv/error_presenter.kv)

log = logging.getLogger(__name__)
READING_SECONDS = 30   # an error on the punch path whose details were opened stays this long, then closes
TOUCH_SECONDS = 5      # a touch on a closing dialog leaves at least this long to reach 閉じる
SHIELD_SECONDS = 0.6   # after closing by itself, taps where the dialog was are swallowed this long
TICK = 0.25
LOCK_UNITS = {"seconds": 1, "minutes": 60}   # a lockout's placeholder in a message, and its length in seconds


class ErrorDialog(ModalView):
    code = StringProperty("")
    message = StringProperty("")
    cause = StringProperty("")
    remedy = StringProperty("")
    help_text = StringProperty("")
    qr_texture = ObjectProperty(None, allownone=True)
    details_open = BooleanProperty(False)
    seconds_left = NumericProperty(0)
    extended = BooleanProperty(False)

    def dismiss(self, *args, **kwargs):
        # Gone at once: during a fade-out the overlay would swallow the next touch (a keypad digit).
        kwargs.setdefault("animation", False)
        return super().dismiss(*args, **kwargs)


class TouchShield(Widget):
    """Swallows touches inside its rectangle until ``until`` (then removes itself)."""

    def __init__(self, rect: tuple[float, float, float, float], until: float, now: Callable[[], float]):
        super().__init__(pos=rect[:2], size=rect[2:], size_hint=(None, None))
        self.until, self._now = until, now

    def on_touch_down(self, touch):
        return self._swallows(touch)

    def on_touch_move(self, touch):
        return self._swallows(touch)

    def on_touch_up(self, touch):
        return self._swallows(touch)

    def _swallows(self, touch) -> bool:
        if self._now() >= self.until:
            self.remove()
            return False
        return self.collide_point(*touch.pos)

    def remove(self, *_args) -> None:
        if self.parent is not None:
            self.parent.remove_widget(self)


def qr_texture(url: str) -> Texture:
    """The QR code of ``url``, one texel per module (with the quiet zone), drawn sharp at any size."""
    rows = fmt.qr_rows(url)
    size = len(rows)
    buf = bytearray()
    for row in reversed(rows):   # a texture's first row is at the bottom
        for dark in row:
            buf += b"\x00\x00\x00\xff" if dark else b"\xff\xff\xff\xff"
    texture = Texture.create(size=(size, size), colorfmt="rgba")
    texture.blit_buffer(bytes(buf), colorfmt="rgba", bufferfmt="ubyte")
    texture.mag_filter = texture.min_filter = "nearest"
    return texture


def lockout(error: KioskError) -> tuple[str, float | None]:
    """The placeholder that counts ``error``'s lockout in its message and the lockout's length in seconds, from
    the error's context (manager_locked_out: ``seconds``; pairing_locked_out: the server's ``minutes``); None
    when the message counts nothing."""
    template = error.entry.message(error.variant, error.situation).get()
    for name, unit in LOCK_UNITS.items():
        value = error.context.get(name)
        if "{" + name + "}" in template and isinstance(value, (int, float)) and not isinstance(value, bool):
            return name, float(value) * unit
    return "seconds", None


class ErrorPresenter:
    def __init__(self, help_base: Callable[[], str | None] = lambda: None,
                 now: Callable[[], float] = time.monotonic) -> None:
        """``help_base()``: where remedy pages are served (the server's ``…/help/``), None without a server."""
        self._queue: deque[tuple[KioskError, float, bool, Callable[[], None] | None]] = deque()
        self.dialog: ErrorDialog | None = None
        self.current: KioskError | None = None
        self.shield: TouchShield | None = None
        self._help_base, self._now = help_base, now
        self._tick = None
        self._closes_at: float | None = None     # auto-dismiss deadline (None: stays until acknowledged)
        self._lock_ends: float | None = None     # a lockout's end (its message counts down to it)
        self._lock_unit = "seconds"              # the placeholder that counts it
        self._closing_by_itself = False

    def show(self, error: KioskError, *, auto_dismiss_after: float = 0, details: bool = False,
             on_dismiss: Callable[[], None] | None = None) -> None:
        """Show ``error`` now, or after the errors already waiting. The same error (key and message) as
        the last one shown or queued is not repeated: a flapping reader does not pile up dialogs."""
        log.warning("error shown: %s", error)
        last = self._queue[-1][0] if self._queue else self.current
        if last is not None and (last.key, last.message()) == (error.key, error.message()):
            return
        self._queue.append((error, auto_dismiss_after, details, on_dismiss))
        if self.dialog is None:
            self._next()

    @property
    def is_open(self) -> bool:
        return self.dialog is not None

    @property
    def pending(self) -> int:
        return len(self._queue)

    def dismiss(self) -> None:
        if self.dialog is not None:
            self.dialog.dismiss()

    def withdraw(self, keys: set[str], device: str | None = None) -> None:
        """The condition behind these errors has cleared: drop them from the queue and close the one shown.
        With ``device``, only errors of that device (or of none in particular) go: the card reader coming
        back must not hide the fingerprint sensor's 「認証機器の初期化に失敗しました」."""
        def cleared(error) -> bool:
            return error.key in keys and (device is None or error.device in (None, device))

        self._queue = deque(item for item in self._queue if not cleared(item[0]))
        if self.current is not None and cleared(self.current):
            self.dismiss()

    def cancel_timers(self) -> None:
        if self._tick is not None:
            self._tick.cancel()
            self._tick = None

    def _next(self) -> None:
        if not self._queue:
            return
        error, seconds, details, on_dismiss = self._queue.popleft()
        self.current, now = error, self._now()
        self._closes_at = now + seconds if seconds > 0 else None
        self._lock_unit, lock = lockout(error)
        self._lock_ends = now + lock if lock is not None else None
        if self._lock_ends is not None and self._closes_at is not None:
            self._closes_at = max(self._closes_at, self._lock_ends)   # counts to the end, then goes
        self.dialog = ErrorDialog(code=error.code or "", cause=error.cause(), remedy=error.remedy(),
                                  details_open=details)
        self._show_help(error)
        self.dialog.bind(on_dismiss=lambda *_: self._closed(on_dismiss))
        self.dialog.bind(on_touch_down=self._touched)
        self.tick()
        if self._closes_at is not None or self._lock_ends is not None:
            self._tick = Clock.schedule_interval(lambda _dt: self.tick(), TICK)
        self.dialog.open(animation=False)

    def _show_help(self, error: KioskError) -> None:
        page = error.help_page()
        if page is None:
            return
        base = self._help_base()
        url = fmt.help_url(base, page)
        self.dialog.help_text = fmt.help_line(url if base else None, page)
        if base:
            self.dialog.qr_texture = qr_texture(url)

    def tick(self) -> None:
        """Count down (the lockout in the message, the seconds until the dialog closes) and close when due."""
        dialog, now = self.dialog, self._now()
        if dialog is None:
            return
        error = self.current
        if self._lock_ends is not None:
            left = max(math.ceil((self._lock_ends - now) / LOCK_UNITS[self._lock_unit]), 0)
            dialog.message = error.entry.message(error.variant, error.situation).format(
                **{**error.context, self._lock_unit: left})
        else:
            dialog.message = error.message()
        if self._closes_at is not None and dialog.details_open and not dialog.extended:
            self._closes_at, dialog.extended = max(self._closes_at, now + READING_SECONDS), True
        if self._closes_at is not None and self._lock_ends is None:   # a lockout's message is its countdown
            dialog.seconds_left = max(math.ceil(self._closes_at - now), 0)
        if (self._closes_at is not None and now >= self._closes_at) or \
                (self._lock_ends is not None and now >= self._lock_ends):
            self._closing_by_itself = True
            dialog.dismiss()

    def _touched(self, dialog: ErrorDialog, touch) -> None:
        """A finger on the dialog: it is being read or 閉じる is about to be tapped. Never close under it."""
        if self._closes_at is not None:
            self._closes_at = max(self._closes_at, self._now() + TOUCH_SECONDS)
            if self._lock_ends is None:
                dialog.seconds_left = max(dialog.seconds_left, TOUCH_SECONDS)

    def _raise_shield(self, dialog: ErrorDialog) -> None:
        box = dialog.ids.box
        x, y = box.to_window(box.x, box.y)
        self.shield = TouchShield((x, y, box.width, box.height), self._now() + SHIELD_SECONDS, self._now)
        Window.add_widget(self.shield)
        Clock.schedule_once(self.shield.remove, SHIELD_SECONDS + 0.1)

    def _closed(self, on_dismiss: Callable[[], None] | None) -> None:
        self.cancel_timers()
        if self._closing_by_itself and self.dialog is not None:
            self._raise_shield(self.dialog)
        self._closing_by_itself = False
        self.dialog, self.current = None, None
        if on_dismiss is not None:
            on_dismiss()
        self._next()

