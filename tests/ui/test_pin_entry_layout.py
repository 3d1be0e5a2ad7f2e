"""The manager's PIN entry (issue 12, the touch walk): ABC is as wide as the keypad above it when it stands alone
(it was 12 dp short: the row kept the spacing for the hidden 一覧から選ぶ button)."""
from __future__ import annotations

import pytest

from kivy_harness import advance, running_app, wait_until

pytestmark = [pytest.mark.ui, pytest.mark.timeout(120)]


@pytest.mark.parametrize("size", [(1280, 800), (800, 1280)])
def test_abc_alone_is_as_wide_as_the_keypad(window, tmp_path, size):
    try:
        with running_app(window, tmp_path) as app:
            window.size = size
            app.manager_flow.open_login()
            wait_until(lambda: app.manager.current == "password")
            advance(4)
            ids = app.password_screen.ids
            assert ids.list_button.opacity == 0                      # the manager's PIN: no list
            left, right = ids.keypad.to_window(ids.keypad.x, 0)[0], ids.keypad.to_window(ids.keypad.right, 0)[0]
            abc = ids.letters_button
            assert abs(abc.to_window(abc.x, 0)[0] - left) <= 1
            assert abs(abc.to_window(abc.right, 0)[0] - right) <= 1, (abc.right, ids.keypad.right)
    finally:
        window.size = (1280, 800)
