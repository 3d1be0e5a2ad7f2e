"""Connection pools for the reference server's database (peewee's ``playhouse.pool``), one per worker process.

Without a pool every request opened and closed its own connection: on PostgreSQL a TCP connection, a
scram-sha-256 login and a new backend process (~30 ms on this 2-core machine, measured in docs/server.md §Scale);
on SQLite a file open plus the WAL and synchronous pragmas (a pooled SQLite connection is used by one thread at a
time, but not always the same one: ``check_same_thread`` is off). With a pool, ``close()`` at the end of a request
hands the connection back, and the next request of any thread of that worker takes it again.

``pooled_url`` turns ``postgresql://`` (``postgres://``) and ``sqlite:///`` into their ``+pool`` schemes with these
defaults, each overridable in the URL's query (``?max_connections=16&stale_timeout=300&timeout=10``):

- ``max_connections`` 16: per worker process; at least gunicorn's ``--threads`` (a thread holds one connection
  for its request). Workers × this must stay under PostgreSQL's ``max_connections`` (default 100).
- ``stale_timeout`` 300 s: an idle connection older than that is closed and replaced on its next use.
- ``timeout`` 10 s: a thread that finds all connections in use waits this long for one, then fails (500).

A connection the server broke (restart, network) is dropped by the pool once the driver has noticed: the
request that noticed gets a 500 (the kiosk retries 5xx), the next one a fresh connection. A URL already naming
a ``+pool`` scheme is taken as it is.
"""
from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit

import peewee as pw

POOL_DEFAULTS = {"max_connections": "16", "stale_timeout": "300", "timeout": "10"}
_POOLED_SCHEMES = {"postgresql": "postgresql+pool", "postgres": "postgresql+pool", "sqlite": "sqlite+pool"}


def pooled_url(url: str) -> str:
    """``url`` with a pooling scheme and the pool defaults not given in its query; other URLs unchanged."""
    parts = urlsplit(url)
    scheme = _POOLED_SCHEMES.get(parts.scheme)
    if scheme is None:
        return url
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    if parts.scheme == "sqlite" and parts.path in ("", "/", "/:memory:"):
        return url                      # an in-memory database is one connection's own: nothing to share
    for name, value in POOL_DEFAULTS.items():
        query.setdefault(name, value)
    if parts.scheme == "sqlite":        # a pooled connection goes back to the pool and on to another thread
        query["check_same_thread"] = "false"     # (one thread at a time: each request holds it to its end)
    # by hand: urlunsplit drops an empty host, and sqlite:////abs/path needs its "//" + "//abs/path"
    return f"{scheme}://{parts.netloc}{parts.path}?{urlencode(query)}"


def release_all(db: pw.Database | None) -> None:
    """Close every connection of ``db`` (pooled or not): before gunicorn forks, so no worker inherits one."""
    if db is None:
        return
    if hasattr(db, "close_all"):
        db.close_all()
    if not db.is_closed():
        db.close()
