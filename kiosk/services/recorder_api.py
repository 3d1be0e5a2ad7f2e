"""The client slot the services read the Recorder API through, and the online-only guard.

The port itself (:class:`RecorderApi`) and its value types are in :mod:`kiosk.ports.recorder_api`: import them
from there."""
from __future__ import annotations

from typing import Callable

from dakoku_core.errors import KioskError, Situation
from kiosk.ports.recorder_api import ClientProvider, RecorderApi

__all__ = ["ClientSlot", "online_client"]


def online_client(client: ClientProvider, is_online: Callable[[], bool], situation: Situation) -> "RecorderApi":
    """The client for a server-only action (認証登録): ``online_only`` 「この機能はオンライン時のみ利用できます」
    when no connection is configured or the kiosk is offline."""
    current = client()
    if current is None or not is_online():
        raise KioskError("online_only", situation=situation)
    return current


class ClientSlot:
    """The current Recorder API client (None until a connection is configured). 接続先変更 swaps it; the
    sync worker, データ更新 and the time service read it through ``get`` (callable as a provider)."""

    def __init__(self, client: RecorderApi | None = None):
        self._client = client

    def get(self) -> RecorderApi | None:
        return self._client

    __call__ = get

    def set(self, client: RecorderApi | None) -> None:
        old, self._client = self._client, client
        if old is not None and old is not client:
            old.close()
