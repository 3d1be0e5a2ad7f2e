"""Serve the Flask app with gunicorn, TLS on by default; in production behind the nginx front.

``front="nginx"`` (``kiosk-server serve --front-proxy nginx``, the production recipe): nginx terminates TLS on
host:port and hands complete requests to gunicorn on a Unix socket in a private runtime directory
(dakoku_server.front_proxy says why: slow clients). gunicorn's arbiter starts nginx once its socket is bound and
stops it when it exits. Without a front, gunicorn terminates TLS itself (--certfile/--keyfile): fine for tests
and a demo, but a handful of slow clients can hold all its threads (docs/server.md).
Each worker opens its own database connection pool after the fork (dakoku_server.db_pool). The access log never
holds a timecard token.
"""
from __future__ import annotations

import dataclasses
import tempfile
from dataclasses import dataclass

from gunicorn.app.base import BaseApplication

from dakoku_server import db, front_proxy
from dakoku_server.app import ServerConfig, create_app
from dakoku_server.db_pool import release_all
from dakoku_server.log_redaction import RedactingLogger


@dataclass(frozen=True)
class ListenConfig:
    host: str = "127.0.0.1"
    port: int = 8443
    certfile: str = ""
    keyfile: str = ""
    workers: int = 2
    threads: int = 4
    timeout: int = 30
    access_log: bool = False
    front: str = ""                 # "" (gunicorn alone) or "nginx"
    runtime_dir: str = ""           # the front's private directory; "" = a fresh temporary one


class _Gunicorn(BaseApplication):
    def __init__(self, server: ServerConfig, listen: ListenConfig, front: front_proxy.FrontConfig | None = None,
                 nginx: str = ""):
        self.server_config = server
        self.listen = listen
        self.front = front
        self.nginx = nginx
        self.front_process = None
        super().__init__()

    def _bind(self) -> str:
        if self.front is not None:
            return f"unix:{self.front.upstream_socket}"
        listen = self.listen
        return f"[{listen.host}]:{listen.port}" if ":" in listen.host else f"{listen.host}:{listen.port}"

    def load_config(self) -> None:
        listen = self.listen
        options = {
            "bind": self._bind(), "workers": listen.workers, "threads": listen.threads, "timeout": listen.timeout,
            "graceful_timeout": 10, "forwarded_allow_ips": "", "proxy_allow_ips": "",
            "control_socket_disable": True, "logger_class": RedactingLogger,
            "accesslog": "-" if listen.access_log else None, "errorlog": "-", "loglevel": "info",
        }
        if listen.certfile and self.front is None:
            options.update(certfile=listen.certfile, keyfile=listen.keyfile)
        if self.front is not None:
            options.update(when_ready=self._start_front, on_exit=self._stop_front, umask=0o077)
        for name, value in options.items():
            self.cfg.set(name, value)

    def _start_front(self, _arbiter) -> None:
        self.front_process = front_proxy.start(self.front, self.nginx)

    def _stop_front(self, _arbiter) -> None:
        if self.front_process is not None:
            front_proxy.stop(self.front_process)

    def load(self):
        return create_app(self.server_config)


def _front(listen: ListenConfig) -> tuple[front_proxy.FrontConfig, str]:
    binary = front_proxy.nginx_binary()
    if binary is None:
        raise RuntimeError("nginx is not installed (scripts/setup.sh installs it); or serve without --front-proxy")
    runtime = listen.runtime_dir or tempfile.mkdtemp(prefix="dakoku-front-")
    front = front_proxy.FrontConfig(listen.host, listen.port, listen.certfile, listen.keyfile, runtime,
                                    access_log=listen.access_log)
    front_proxy.check(front, binary)
    return front, binary


def serve(server: ServerConfig, listen: ListenConfig) -> None:
    release_all(db.database.obj)        # the arbiter's own connections (create_tables): no worker inherits one
    if listen.front == "nginx":
        front, binary = _front(listen)
        auth = dataclasses.replace(server.auth, trust_proxy_header=front_proxy.CLIENT_ADDRESS_HEADER)
        _Gunicorn(dataclasses.replace(server, auth=auth), listen, front, binary).run()
    elif listen.front:
        raise RuntimeError(f"unknown front proxy {listen.front!r} (known: nginx)")
    else:
        _Gunicorn(server, listen).run()
