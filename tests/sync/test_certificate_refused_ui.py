"""End to end on the real screens with the real reference server: the administrator revokes this kiosk's
certificate; a card punch is still recorded (the ledger first), and when the outbox worker uploads it the server
refuses the signature → the error presenter shows 「証明書が正しくありません」 without a code, once."""
from __future__ import annotations

import zlib

import pytest

from kiosk.adapters.connection_file import ConnectionFile
from dakoku_core.demo import DEMO_CARDS
from dakoku_core.domain.model import PunchKind
from dakoku_server import admin, recorders
from kiosk.ports.recorder_api import ConnectionSettings
from kivy_harness import advance, running_app, touch, wait_until

from .harness import Provisioning
from .test_certificate_refused import admin_cli

pytestmark = [pytest.mark.ui, pytest.mark.timeout(240)]
YAMADA = next(c.card_id for c in DEMO_CARDS if c.employee_code == "1001")


def test_a_punch_upload_refused_for_the_certificate_is_shown(sync_server, window, tmp_path, request):
    sync_server.bind()
    code = f"H4U{zlib.crc32(request.node.name.encode()) % 1000:03d}"
    provisioning = Provisioning.from_text(recorders.add_recorder(admin.company("DEMO"), code, "HQ",
                                                                 server_url=sync_server.process.url).text())
    ConnectionFile(tmp_path).save(ConnectionSettings(provisioning.connection_text, provisioning.certificate_text))
    with running_app(window, tmp_path) as app:
        wait_until(app.kiosk.sync.sync.is_online, timeout=30)
        wait_until(lambda: app.kiosk.master.recorder() is not None and app.kiosk.master.recorder().code == code,
                   timeout=30)
        admin_cli(sync_server, "revoke", "DEMO", code)
        touch(app.standby.punch_button(PunchKind.CLOCK_IN))
        app.kiosk.reader.tap(YAMADA)
        wait_until(lambda: app.kiosk.punches.count() == 1, timeout=30)        # recorded: the ledger comes first
        wait_until(lambda: app.presenter.is_open and app.presenter.current.key == "certificate_invalid_local",
                   timeout=60)
        error = app.presenter.current
        assert (error.code, error.message("ja")) == (None, "証明書が正しくありません")
        assert app.presenter.dialog.message == "証明書が正しくありません"
        assert app.kiosk.sync.sync.status.pending == 1                       # kept for a renewed certificate
        app.presenter.dismiss()
        app.kiosk.sync.sync.notify()                                         # the worker tries again: not shown twice
        advance(30)
        assert not (app.presenter.is_open and app.presenter.current.key.startswith("certificate"))
