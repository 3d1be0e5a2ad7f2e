"""Serve the Flask app with gunicorn, TLS on by default.

gunicorn is a real pre-fork WSGI server that terminates TLS itself (--certfile/--keyfile), so a small
site needs no reverse proxy. Each worker opens its own database connection after the fork.
"""
from __future__ import annotations

from dataclasses import dataclass

from gunicorn.app.base import BaseApplication

from kiosk.server.app import ServerConfig, create_app


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


class _Gunicorn(BaseApplication):
    def __init__(self, server: ServerConfig, listen: ListenConfig):
        self.server_config = server
        self.listen = listen
        super().__init__()

    def load_config(self) -> None:
        listen = self.listen
        options = {
            "bind": f"[{listen.host}]:{listen.port}" if ":" in listen.host else f"{listen.host}:{listen.port}",
            "workers": listen.workers, "threads": listen.threads, "timeout": listen.timeout,
            "graceful_timeout": 10, "forwarded_allow_ips": "", "proxy_allow_ips": "",
            "control_socket_disable": True,
            "accesslog": "-" if listen.access_log else None, "errorlog": "-", "loglevel": "info",
        }
        if listen.certfile:
            options.update(certfile=listen.certfile, keyfile=listen.keyfile)
        for name, value in options.items():
            self.cfg.set(name, value)

    def load(self):
        return create_app(self.server_config)


def serve(server: ServerConfig, listen: ListenConfig) -> None:
    _Gunicorn(server, listen).run()
