"""The proxy URL shown in 設定 → 接続先 never shows the proxy password (kiosk.ui.format has no Kivy)."""
import pytest

from kiosk.ui.format import without_password


@pytest.mark.parametrize("url, shown", [
    ("http://taro:s3cret@proxy.example.jp:8080", "http://taro:***@proxy.example.jp:8080"),
    ("http://proxy.example.jp:8080", "http://proxy.example.jp:8080"),
    ("", ""),
])
def test_proxy_password_is_masked(url, shown):
    assert without_password(url) == shown
