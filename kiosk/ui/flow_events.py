"""The events a flow emits. A flow declares its event names; the app connects a handler to each once (in
:meth:`kiosk.ui.app.KioskApp.connect_flows`), so flows never reach into one another. Everything runs on the Kivy
thread: an event is a plain call, in the order the handlers were connected."""
from __future__ import annotations

from typing import Any, Callable, ClassVar


class FlowEvents:
    EVENTS: ClassVar[tuple[str, ...]] = ()

    def __init__(self) -> None:
        self._handlers: dict[str, list[Callable[..., Any]]] = {name: [] for name in self.EVENTS}

    def connect(self, name: str, handler: Callable[..., Any]) -> None:
        """Call ``handler`` on each ``name`` event. An unknown name is a programming error: it raises."""
        if name not in self._handlers:
            raise KeyError(f"{type(self).__name__} has no event {name!r} (it has {', '.join(self.EVENTS)})")
        self._handlers[name].append(handler)

    def emit(self, name: str, *args: Any) -> None:
        for handler in list(self._handlers[name]):
            handler(*args)
