"""dakoku_server.body_limit on real sockets: the drain reads what was declared, stops at its deadline when the
client stalls (a slow client must not hold a thread), and the middleware drains only bodies over the limit and
up to the drain limit. (That a 2 MiB body is then answered 413 every time, over TLS through gunicorn, is in
test_abuse.py.)"""
from __future__ import annotations

import io
import socket
import threading
import time

from dakoku_server.body_limit import DrainOversizedBodies, declared_length, drain


def test_the_declared_body_is_read_to_its_end():
    reader, writer = socket.socketpair()
    with reader, writer:
        sender = threading.Thread(target=writer.sendall, args=(b"x" * 300_000,))
        sender.start()
        stream = reader.makefile("rb")
        assert drain(stream, 300_000, time.monotonic() + 5, reader)
        sender.join()
        writer.sendall(b"next")
        assert stream.read(4) == b"next"                     # nothing past the body was taken
        assert reader.gettimeout() is None                   # the socket is left as it was


def test_a_stalled_client_is_given_up_at_the_deadline():
    reader, writer = socket.socketpair()
    with reader, writer:
        writer.sendall(b"x" * 1000)                            # then nothing more of the 2 MiB it declared
        started = time.monotonic()
        assert not drain(reader.makefile("rb"), 2 * 1024 * 1024, started + 0.5, reader)
        assert 0.4 < time.monotonic() - started < 3
        assert reader.gettimeout() is None


def test_a_body_that_ends_early_is_done():
    assert drain(io.BytesIO(b"short"), 1000, time.monotonic() + 1)


class _Recorder:
    def __init__(self):
        self.seen = None

    def __call__(self, environ, start_response):
        self.seen = environ["wsgi.input"].read()
        return [b""]


def _call(body: bytes, length: str, limit: int = 10, drain_limit: int = 100) -> bytes:
    app = _Recorder()
    DrainOversizedBodies(app, limit, drain_limit)({"CONTENT_LENGTH": length, "wsgi.input": io.BytesIO(body)},
                                                  lambda *_: None)
    return app.seen


def test_only_bodies_over_the_limit_and_within_the_drain_limit_are_drained():
    assert _call(b"a" * 10, "10") == b"a" * 10                 # at the limit: the app reads it
    assert _call(b"a" * 50, "50") == b""                       # over: drained before the app answers
    assert _call(b"a" * 200, "200") == b"a" * 200              # beyond the drain limit: not read here
    assert _call(b"a" * 50, "") == b"a" * 50                   # no declared length (chunked): not read here
    assert [declared_length({"CONTENT_LENGTH": v}) for v in ("7", "", "x", "-1")] == [7, None, None, None]
