"""Failures of the Recorder API transport → catalogue errors (the rule is in docs/errors.md § Connection failures).

The seed splits a failed exchange with the server two ways. A configuration problem (the server was never
reached since 接続先変更, the port is closed, the proxy or TLS fails) is 004–007; a temporary drop, while the
server had been answering, is 「サーバーに接続できませんでした」 (``server_unreachable``) in its variant for the
situation; a connection dropped in the middle of an answer is 「例外が発生しました」 (variant ``exception``).

What "had been answering" means: :class:`AnswerLog` keeps, per server origin (``https://host:port``), the
monotonic time of the last HTTP answer any client of this kiosk received (any status: something answered at that
address). A connection failure (refused, DNS, unreachable, timeout, reset before an answer) within
``RECENT_ANSWER_SECONDS`` of that answer is a drop; later, or with no answer at all, it is 004/005/007. TLS and
proxy failures are 006 always (a setting, not a drop).
"""
from __future__ import annotations

import threading
import time
from typing import Callable
from urllib.parse import urlsplit

import requests

from dakoku_core.errors import KioskError, Situation, unexpected
from dakoku_core.protocol.client import api_error

RECENT_ANSWER_SECONDS = 600.0       # 10 minutes: five missed heartbeats of the outbox worker (60 s each)

# Where the server refusing the recorder's signature is 「証明書が正しくありません」 without a code: at the kiosk's
# own actions. 初期設定, 接続先変更 and データ更新 keep 012 (certificate_invalid), as the seed lists them.
LOCAL_CERTIFICATE_SITUATIONS = frozenset({Situation.REGISTRATION, Situation.HELP_REGISTRATION, Situation.PUNCH,
                                          Situation.BROWSER})


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


class AnswerLog:
    """When each server last answered (monotonic seconds). One per kiosk, shared by its clients, so that a new
    client for the same server (接続先変更 that keeps the URL) inherits what the old one saw."""

    def __init__(self, window: float = RECENT_ANSWER_SECONDS, monotonic: Callable[[], float] = time.monotonic):
        self.window = window
        self._monotonic = monotonic
        self._last: dict[str, float] = {}
        self._lock = threading.Lock()

    def answered(self, origin: str) -> None:
        with self._lock:
            self._last[origin] = self._monotonic()

    def last_answer(self, origin: str) -> float | None:
        with self._lock:
            return self._last.get(origin)

    def recently(self, origin: str) -> bool:
        last = self.last_answer(origin)
        return last is not None and self._monotonic() - last <= self.window


def dropped(situation: Situation | None, detail: str) -> KioskError:
    """A temporary drop: 「サーバーに接続できませんでした」 in the variant of the situation (docs/errors.md)."""
    if situation in (Situation.INITIAL_SETUP, Situation.CONNECTION_CHANGE):
        return KioskError("server_unreachable", situation=situation, variant="connect_failed", detail=detail)
    if situation in (Situation.DATA_UPDATE, Situation.REGISTRATION):
        return KioskError("server_unreachable", situation=situation, variant="failed", detail=detail)
    return KioskError("server_unreachable", situation=situation, detail=detail)   # 打刻, ヘルプ登録, ブラウザ起動


def cut_short(situation: Situation | None, detail: str) -> KioskError:
    """The server answered, then the connection dropped before the answer was complete: 「例外が発生しました」."""
    return KioskError("server_unreachable", situation=situation, variant="exception", detail=detail)


def _root_causes(exc: BaseException) -> list[BaseException]:
    chain, seen, stack = [], set(), [exc]
    while stack:
        current = stack.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        chain.append(current)
        stack.extend(a for a in getattr(current, "args", ()) if isinstance(a, BaseException))
        stack.extend((current.__cause__, current.__context__, getattr(current, "reason", None)))
    return chain


def never_connected(exc: BaseException) -> bool:
    """True when the TCP connection itself could not be made (DNS, refused, unreachable)."""
    import urllib3.exceptions as u3
    for cause in _root_causes(exc):
        if isinstance(cause, (u3.NewConnectionError, u3.NameResolutionError, ConnectionRefusedError)):
            return True
        if isinstance(cause, OSError) and cause.errno in (101, 113, 111):  # unreachable, no route, refused
            return True
    return False


def timed_out(exc: BaseException) -> bool:
    """A read timeout while the body streams in reaches us as requests' ConnectionError."""
    import urllib3.exceptions as u3
    return any(isinstance(c, (u3.TimeoutError, TimeoutError)) for c in _root_causes(exc))


def _configuration_key(exc: BaseException) -> str | None:
    """The 004–007 key of a transport failure when it is not a drop; None for what is not a transport failure."""
    rx = requests.exceptions
    if isinstance(exc, (rx.ProxyError, rx.SSLError)):
        return "tls_or_proxy_failed"
    if isinstance(exc, rx.Timeout):
        return "timeout"
    if isinstance(exc, rx.ConnectionError):
        # (urllib3's NewConnectionError is also a ConnectTimeoutError: ask "never connected" first)
        return "connect_failed" if never_connected(exc) else "timeout" if timed_out(exc) else "server_error"
    if isinstance(exc, rx.ContentDecodingError):
        return "server_error"
    return None


def translate_transport_error(exc: BaseException, situation: Situation | None,
                              recent_answer: bool = False) -> KioskError:
    """requests/urllib3 failures → catalogue keys. ``recent_answer``: the server answered this kiosk within
    the window (AnswerLog.recently), so a connection failure is a temporary drop."""
    detail = f"{type(exc).__name__}: {exc}"[:500]
    if isinstance(exc, requests.exceptions.ChunkedEncodingError):
        return cut_short(situation, detail)           # headers came, the body did not: mid-response
    key = _configuration_key(exc)
    if key is None:
        return unexpected(exc, situation)
    if key != "tls_or_proxy_failed" and recent_answer:
        return dropped(situation, detail)
    return KioskError(key, situation=situation, detail=detail)


def error_for_response(response: requests.Response, situation: Situation | None) -> KioskError:
    """A non-2xx answer → its catalogue error (the server's error body, or 006/007)."""
    if response.status_code == 407:
        return KioskError("tls_or_proxy_failed", situation=situation, detail="HTTP 407 from a proxy")
    if response.status_code >= 500 or response.status_code == 429:
        return KioskError("server_error", situation=situation, detail=f"HTTP {response.status_code}")
    error = api_error(response, situation)
    if error.key == "certificate_invalid" and situation in LOCAL_CERTIFICATE_SITUATIONS:
        # The server refused this recorder's signature (key unknown, revoked or renewed, bad signature) while
        # the kiosk was punching or registering: the seed's no-code row for 認証登録時 / 打刻時.
        return KioskError("certificate_invalid_local", situation=situation, detail=error.detail)
    return error
