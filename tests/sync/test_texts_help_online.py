"""The remedy page behind an error's QR code, end to end: the kiosk provisioned against the reference server
(TLS on loopback), the error dialog's QR code decoded from what GL drew, and that URL fetched from the server as
a phone would (docs/remedies/README.md)."""
from __future__ import annotations

import numpy as np
import pytest
import requests
import zxingcpp

from dakoku_core.errors import KioskError, Situation
from kivy_harness import advance, running_app, wait_until

pytestmark = [pytest.mark.ui, pytest.mark.timeout(300)]


def _decoded(dialog) -> list[str]:
    texture = dialog.ids.box.export_as_image().texture
    pixels = np.frombuffer(texture.pixels, dtype=np.uint8).reshape(texture.height, texture.width, 4)
    return [r.text for r in zxingcpp.read_barcodes(np.flipud(pixels[:, :, :3].mean(axis=2).astype(np.uint8)))]


def test_the_qr_code_opens_the_remedy_page_on_the_kiosks_server(sync_server, window, tmp_path):
    with running_app(window, tmp_path) as app:
        app.kiosk.sync.change_connection(sync_server.demo.connection_text, sync_server.demo.certificate_text)
        origin = f"https://127.0.0.1:{sync_server.process.port}"
        assert app.help_base() == origin + "/help/"
        app.presenter.show(KioskError("ip_not_allowed", situation=Situation.DATA_UPDATE), details=True)
        advance(8)
        wait_until(lambda: app.presenter.dialog.qr_texture is not None)
        advance(3)
        [url] = _decoded(app.presenter.dialog)
        assert url == origin + "/help/ip-allow-list" and app.presenter.dialog.help_text.endswith(url)
        page = requests.get(url, verify=str(sync_server.directory / "demo" / "tls" / "ca.pem"), timeout=10)
        assert page.status_code == 200 and "IPアドレスが許可されていない" in page.text
