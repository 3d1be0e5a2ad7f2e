"""接続先変更 does not strand unsent punches: they are sent first, and a change to another recorder is
refused while some remain. (Fakes for the worker and files; the real ones are tested in tests/sync.)"""
from types import SimpleNamespace

import pytest

from dakoku_core.errors import KioskError
from kiosk.ports.recorder_api import ConnectionSettings
from kiosk.sync_wiring import SyncParts

OLD = "v=1;url=https://old.example.jp/;company=C1;recorder=R001;department=HQ;device=card"
SAME_RECORDER_NEW_DEPT = "v=1;url=https://old.example.jp/;company=C1;recorder=R001;department=ST;device=card"
OTHER = "v=1;url=https://new.example.jp/;company=C1;recorder=R009;department=HQ;device=card"


class FakeSync:
    def __init__(self, pending_after_drain: int):
        self.drains, self._pending = 0, pending_after_drain
        self.status = SimpleNamespace(pending=pending_after_drain)

    def drain(self):
        self.drains += 1
        return SimpleNamespace(pending=self._pending)


def parts(pending: int):
    changes = []
    change = SimpleNamespace(change=lambda c, k, proxy_url="": changes.append(c) or "changed")
    file = SimpleNamespace(load=lambda situation=None: ConnectionSettings(OLD, "cert"))
    p = SyncParts(connection_file=file, slot=SimpleNamespace(get=lambda: object()), sync=FakeSync(pending),
                  data_update=None, scheduler=None, time_sync=None, connection_change=change, master_sync=None,
                  startup_errors=[])
    return p, changes


def test_another_recorder_is_refused_while_punches_cannot_be_sent():
    p, changes = parts(pending=3)
    with pytest.raises(KioskError) as info:
        p.change_connection(OTHER, "cert")
    assert info.value.key == "unsent_punches_block_change" and "3件" in info.value.message()
    assert p.sync.drains == 1 and changes == []


def test_change_goes_ahead_once_everything_is_sent():
    p, changes = parts(pending=0)
    assert p.change_connection(OTHER, "cert") == "changed" and p.sync.drains == 1


def test_same_recorder_needs_no_drain():
    p, changes = parts(pending=5)
    assert p.change_connection(SAME_RECORDER_NEW_DEPT, "cert") == "changed" and p.sync.drains == 0
