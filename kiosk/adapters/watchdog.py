"""systemd's service notification protocol (sd_notify), spoken directly: one datagram to ``$NOTIFY_SOCKET``.

Under packaging/linux/dakoku-kiosk.service (``Type=notify``, ``NotifyAccess=all``, ``WatchdogSec=``) the kiosk
says ``READY=1`` once its main loop runs and then ``WATCHDOG=1`` from that loop every half watchdog period
(``$WATCHDOG_USEC``), so a UI that hangs stops pinging and systemd restarts it. Without ``NOTIFY_SOCKET``
(a terminal, the tests, Windows) nothing is sent. The kiosk runs under xinit, so it is not the service's main
process: ``$WATCHDOG_PID`` names xinit and is not compared with our own pid (NotifyAccess=all accepts us)."""
from __future__ import annotations

import logging
import os
import socket
from collections.abc import Mapping

log = logging.getLogger(__name__)


class SystemdNotifier:
    def __init__(self, address: str, watchdog_usec: int | None = None):
        # "@name" is a socket in the abstract namespace (a leading NUL byte on the wire)
        self.address = "\0" + address[1:] if address.startswith("@") else address
        self.interval = watchdog_usec / 2_000_000 if watchdog_usec else None   # seconds between pings
        self._failed = False

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] = os.environ) -> SystemdNotifier | None:
        address = environ.get("NOTIFY_SOCKET", "")
        if not address or not hasattr(socket, "AF_UNIX"):
            return None
        usec = environ.get("WATCHDOG_USEC", "")
        return cls(address, int(usec) if usec.isdigit() and int(usec) > 0 else None)

    def ready(self) -> bool:
        return self.send("READY=1\nSTATUS=standby shown")

    def ping(self) -> bool:
        return self.send("WATCHDOG=1")

    def send(self, message: str) -> bool:
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
                sock.sendto(message.encode("utf-8"), self.address)
        except OSError as exc:
            if not self._failed:   # said once: a missing socket must not flood the log every few seconds
                log.warning("systemd notification to %s failed: %s", self.address.lstrip("\0"), exc)
            self._failed = True
            return False
        return True
