"""The nginx front of ``kiosk-server serve --front-proxy nginx`` (issue 10, item 1: slow clients).

Why a front proxy: gunicorn's threaded worker hands a connection to a thread as soon as its first byte
arrives, and that thread then reads the rest of the request with blocking reads. A client that sends one header
byte every 5 s holds a thread for as long as it likes; 50 of them hold every thread of every worker, and every
kiosk times out. nginx is event-driven (an idle connection costs a few hundred bytes, not a thread), closes a
connection whose request header has not fully arrived within ``client_header_timeout`` (in total, not per
read), reads each request body completely before it passes anything on (``proxy_request_buffering``), and
takes the responses off gunicorn's hands at once (``proxy_buffering``). gunicorn then only ever sees complete
requests from one trusted local peer, over a Unix socket in a 0700 directory that nobody else can reach.

The client's address reaches the app in ``X-Real-IP`` (set here from the TCP peer, overwriting whatever the
client sent), which ``serve`` then trusts (``AuthConfig.trust_proxy_header``) for the IP allow-list.
The access log (``--access-log``) never holds a timecard token: it logs ``$redacted_uri``.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
from dataclasses import dataclass
from pathlib import Path

from dakoku_core.errors import KioskError
from dakoku_core.protocol.error_body import error_body
from dakoku_server.private_files import private_dir, write_private

CLIENT_ADDRESS_HEADER = "X-Real-IP"
NGINX_PATHS = ("/usr/sbin/nginx", "/usr/local/sbin/nginx", "/usr/local/nginx/sbin/nginx")


@dataclass(frozen=True)
class FrontConfig:
    host: str
    port: int
    certfile: str
    keyfile: str
    runtime_dir: str                       # nginx.conf, pid, temp files and gunicorn's socket (0700)
    access_log: bool = False
    header_timeout_s: int = 10             # whole request header (and TLS handshake) within this
    body_timeout_s: int = 10               # between two reads of the body
    max_connections_per_ip: int = 256      # counted once the header is read (a site's kiosks may share one IP)
    max_body: str = "1m"                   # = dakoku_server.app.MAX_BODY_BYTES

    @property
    def upstream_socket(self) -> str:
        return str(Path(self.runtime_dir) / "app.sock")


# What nginx answers itself, in the app's JSON error body (docs/server.md § Errors), never its HTML pages:
# status → (catalogue key, reason). 413 and 400 are a kiosk bug (never retried); 429 and 5xx are retried.
FRONT_ERRORS = {400: ("unexpected", "bad_request"), 413: ("unexpected", "request_entity_too_large"),
                429: ("server_error", "too_many_connections"), 502: ("server_error", "upstream_unavailable"),
                503: ("server_error", "upstream_unavailable"), 504: ("server_error", "upstream_timeout")}


def _error_pages() -> str:
    lines = []
    for status, (key, reason) in FRONT_ERRORS.items():
        body = json.dumps(error_body(KioskError(key), reason), ensure_ascii=False, separators=(",", ":"))
        if any(c in body for c in "'\\$"):              # nginx would read them as escapes or variables
            raise ValueError(f"the front's {status} body cannot be written into nginx.conf")
        lines.append(f"    error_page {status} @e{status};\n"
                     f"    location @e{status} {{ default_type application/json; charset utf-8; "
                     f"return {status} '{body}'; }}")
    return "\n".join(lines)


def nginx_binary() -> str | None:
    found = shutil.which("nginx")
    return found or next((p for p in NGINX_PATHS if os.access(p, os.X_OK)), None)


def _listen(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def render(cfg: FrontConfig) -> str:
    run = Path(cfg.runtime_dir)
    temp = "\n".join(f"  {name}_temp_path {run / name};" for name in ("client_body", "proxy", "fastcgi", "uwsgi",
                                                                      "scgi"))
    access = (f"  access_log {run / 'access.log'} dakoku;" if cfg.access_log else "  access_log off;")
    user = "user root root;\n" if os.geteuid() == 0 else ""     # see docs/server.md: run as a dedicated user
    return f"""{user}worker_processes 1;
pid {run / 'nginx.pid'};
error_log stderr warn;
events {{ worker_connections 4096; }}
http {{
  server_tokens off;
{temp}
  map $request_uri $redacted_uri {{ "~^/timecard/" "/timecard/[redacted]"; default $request_uri; }}
  log_format dakoku '$remote_addr [$time_local] "$request_method $redacted_uri" $status $body_bytes_sent $request_time';
{access}
  client_header_timeout {cfg.header_timeout_s}s;
  client_body_timeout {cfg.body_timeout_s}s;
  send_timeout 30s;
  keepalive_timeout 30s;
  keepalive_requests 1000;
  client_max_body_size {cfg.max_body};
  client_body_buffer_size {cfg.max_body};
  large_client_header_buffers 4 16k;
  limit_conn_zone $binary_remote_addr zone=per_address:4m;
  limit_conn per_address {cfg.max_connections_per_ip};
  limit_conn_status 429;
  upstream dakoku_app {{ server unix:{cfg.upstream_socket}; keepalive 16; }}
  server {{
    listen {_listen(cfg.host, cfg.port)} ssl;
    ssl_certificate {cfg.certfile};
    ssl_certificate_key {cfg.keyfile};
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_session_cache shared:dakoku_tls:4m;
{_error_pages()}
    location / {{
      proxy_pass http://dakoku_app;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $http_host;
      proxy_set_header {CLIENT_ADDRESS_HEADER} $remote_addr;
      proxy_set_header X-Forwarded-For "";
      proxy_set_header X-Forwarded-Proto https;
      proxy_request_buffering on;
      proxy_buffering on;
      proxy_read_timeout 60s;
    }}
  }}
}}
"""


def write_config(cfg: FrontConfig) -> Path:
    private_dir(cfg.runtime_dir)
    os.chmod(cfg.runtime_dir, 0o700)
    path = Path(cfg.runtime_dir) / "nginx.conf"
    write_private(path, render(cfg))
    return path


def check(cfg: FrontConfig, binary: str) -> None:
    """``nginx -t`` on the written configuration; RuntimeError with nginx's words when it is refused."""
    conf = write_config(cfg)
    done = subprocess.run([binary, "-t", "-q", "-p", cfg.runtime_dir, "-c", str(conf)],
                          capture_output=True, text=True, timeout=30)
    if done.returncode != 0:
        raise RuntimeError(f"nginx refused its configuration: {done.stderr.strip()}")


def start(cfg: FrontConfig, binary: str) -> subprocess.Popen:
    conf = write_config(cfg)
    return subprocess.Popen([binary, "-p", cfg.runtime_dir, "-c", str(conf), "-g", "daemon off;"],
                            stdin=subprocess.DEVNULL)


def stop(process: subprocess.Popen, timeout: float = 10.0) -> None:
    """Graceful stop (SIGQUIT lets requests in flight finish), then SIGKILL if it lingers."""
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGQUIT)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=5)
