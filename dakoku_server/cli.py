"""``kiosk-server``: the reference server's admin CLI and ``serve`` command.

    kiosk-server --db sqlite:///dakoku.db init --url https://kiosk-server.local:8443/
    kiosk-server --db ... tls init --dir tls --host kiosk-server.local --host 192.0.2.10
    kiosk-server --db ... serve --tls-dir tls --host 0.0.0.0 --port 8443
    kiosk-server --db ... demo --dir demo        (a whole demo company; see docs/server.md)

``--db`` defaults to $DAKOKU_SERVER_DB, else ``sqlite:///dakoku-server.db``. ``--template-keys DIR`` (default
$DAKOKU_TEMPLATE_KEYS; for SQLite ``<directory of the .sqlite file>/template-keys``) holds the keys that seal
fingerprint templates; ``serve`` on any other database refuses to start without it.
"""
from __future__ import annotations

import argparse
import os
import sys

from dakoku_server import cli_commands as cmd
from dakoku_server.admin import AdminError


def _sub(parent: argparse._SubParsersAction, name: str, handler, help_text: str, *args) -> argparse.ArgumentParser:
    parser = parent.add_parser(name, help=help_text)
    parser.set_defaults(handler=handler)
    for arg in args:
        parser.add_argument(*arg[0], **arg[1])
    return parser


def _a(*names: str, **kwargs) -> tuple:
    return names, kwargs


COMPANY = _a("company", help="company code")


def _master_commands(sub) -> None:
    companies = sub.add_parser("companies", help="companies").add_subparsers(required=True)
    _sub(companies, "add", cmd.company_add, "add a company", _a("code"), _a("name"),
         _a("--timezone", default="Asia/Tokyo"))
    _sub(companies, "list", cmd.company_list, "list companies")
    ips = sub.add_parser("ip-allow", help="per-company recorder IP allow-list (empty = allow all)")
    ips = ips.add_subparsers(required=True)
    _sub(ips, "add", cmd.ip_add, "allow an exact address", COMPANY, _a("address"))
    _sub(ips, "remove", cmd.ip_remove, "remove an address", COMPANY, _a("address"))
    _sub(ips, "list", cmd.ip_list, "list allowed addresses", COMPANY)
    depts = sub.add_parser("departments", help="所属").add_subparsers(required=True)
    _sub(depts, "add", cmd.department_add, "add a department", COMPANY, _a("code"), _a("name"))
    _sub(depts, "list", cmd.department_list, "list departments", COMPANY)
    types = sub.add_parser("employment-types", help="雇用区分").add_subparsers(required=True)
    _sub(types, "add", cmd.type_add, "add an employment type", COMPANY, _a("code"), _a("name"),
         _a("--no-break-punch", action="store_true", help="break punching not allowed"))
    _sub(types, "list", cmd.type_list, "list employment types", COMPANY)


EMPLOYEE_FIELDS = [
    _a("--first-name"), _a("--last-name-kana"), _a("--first-name-kana"), _a("--login-id"),
    _a("--department"), _a("--type", dest="employment_type"), _a("--hired", dest="hired_on", help="YYYY-MM-DD"),
    _a("--retired", dest="retired_on", help="YYYY-MM-DD (empty to clear)"),
    _a("--password-punch", dest="password_punch_allowed", action=argparse.BooleanOptionalAction, default=None),
    _a("--password-stdin", action="store_true", help="read the password from the first line of stdin"),
    _a("--password", help="the password (visible in the process list: prefer --password-stdin)"),
]


def _people_commands(sub) -> None:
    emps = sub.add_parser("employees", help="従業員").add_subparsers(required=True)
    _sub(emps, "add", cmd.employee_add, "add an employee", COMPANY, _a("code"), _a("--last-name", required=True),
         *EMPLOYEE_FIELDS)
    _sub(emps, "update", cmd.employee_update, "change an employee", COMPANY, _a("code"), _a("--last-name"),
         *EMPLOYEE_FIELDS)
    _sub(emps, "delete", cmd.employee_delete, "delete an employee", COMPANY, _a("code"))
    _sub(emps, "list", cmd.employee_list, "list employees", COMPANY)
    cards = sub.add_parser("cards", help="IC cards (stored as keyed hashes)").add_subparsers(required=True)
    _sub(cards, "add", cmd.card_add, "register a card", COMPANY, _a("employee"), _a("card_id"))
    _sub(cards, "delete", cmd.card_delete, "delete a card", COMPANY, _a("card_id"))
    helps = sub.add_parser("help", help="ヘルプ登録").add_subparsers(required=True)
    _sub(helps, "add", cmd.help_add, "help-register an employee", COMPANY, _a("employee"), _a("department"))
    _sub(helps, "delete", cmd.help_delete, "remove a help registration", COMPANY, _a("employee"), _a("department"))
    _sub(helps, "list", cmd.help_list, "list help registrations", COMPANY)


def _recorder_commands(sub) -> None:
    recs = sub.add_parser("recorders", help="time recorders (kiosks)").add_subparsers(required=True)
    out = _a("--out", help="also write the connection string and certificate to this file (mode 600)")
    url = _a("--url", help="server URL for the connection string (default: the one given to init)")
    _sub(recs, "add", cmd.recorder_add, "create a recorder; prints its connection string and certificate",
         COMPANY, _a("code"), _a("--department", required=True), _a("--device", default="card"),
         _a("--name", default=""), url, out)
    _sub(recs, "renew", cmd.recorder_renew, "issue a new certificate (the old one stops working)",
         COMPANY, _a("code"), url, out)
    _sub(recs, "revoke", cmd.recorder_revoke, "revoke the recorder's certificate", COMPANY, _a("code"))
    _sub(recs, "set", cmd.recorder_set, "set a recorder setting (value is JSON)", COMPANY, _a("code"),
         _a("name"), _a("value"))
    _sub(recs, "list", cmd.recorder_list, "list recorders", COMPANY)
    _sub(recs, "pair", cmd.recorder_pair, "issue a one-time pairing code (the kiosk fetches its settings with it)",
         COMPANY, _a("code"), _a("--minutes", type=int, default=10, help="how long the code is valid (default 10)"),
         url)


def _server_commands(sub) -> None:
    _sub(sub, "init", cmd.init, "create the tables (and remember the public URL)",
         _a("--url", help="the server's public https:// URL, put into connection strings"))
    tls = sub.add_parser("tls", help="local CA").add_subparsers(required=True)
    _sub(tls, "init", cmd.tls_init, "create a local CA and a server certificate", _a("--dir", required=True),
         _a("--host", action="append", required=True, help="host name or IP (repeat)"))
    _sub(sub, "serve", cmd.serve, "run the HTTPS server (gunicorn)",
         _a("--host", default="127.0.0.1"), _a("--port", type=int, default=8443),
         _a("--tls-dir", help="directory made by `tls init` (server.pem, server.key)"),
         _a("--certfile"), _a("--keyfile"),
         _a("--insecure-no-tls", action="store_true", help="plain HTTP, only behind a TLS-terminating proxy"),
         _a("--workers", type=int, default=2), _a("--threads", type=int, default=4),
         _a("--timestamp-window", type=int, default=300, help="accepted clock difference in seconds"),
         _a("--trust-proxy-header", default="", help="e.g. X-Forwarded-For; off by default"),
         _a("--public-url", default="", help="base URL of timecard links (default: the URL of `init --url`)"),
         _a("--access-log", action="store_true", help="log requests (timecard tokens are never logged)"),
         _a("--front-proxy", choices=["nginx"], default=None,
            help="production: nginx terminates TLS on --host/--port and buffers slow clients (docs/server.md)"),
         _a("--runtime-dir", default="", help="private directory for the front proxy (default: a new temp dir)"))
    _sub(sub, "demo", cmd.demo, "create a demo company, employees, cards and a recorder",
         _a("--dir", required=True, help="where to write tls/, recorder.txt and cards.txt"),
         _a("--host", default="127.0.0.1"), _a("--port", type=int, default=8443))


def database_url(value: str) -> str:
    """``--db``: a database URL, or a plain file path, which is an SQLite file (``./server.db`` →
    ``sqlite:////abs/server.db``): an operator need not know peewee's URL form for the common case."""
    if "://" in value:
        return value
    return f"sqlite:///{os.path.abspath(value)}"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kiosk-server", description="Dakoku reference attendance server")
    parser.add_argument("--db", type=database_url,
                        default=os.environ.get("DAKOKU_SERVER_DB", "sqlite:///dakoku-server.db"),
                        help="database URL (sqlite:///path or postgresql://user:pw@host/db) or an SQLite file's path")
    parser.add_argument("--template-keys", default=os.environ.get("DAKOKU_TEMPLATE_KEYS") or None, metavar="DIR",
                        help="directory of the fingerprint template keys, kept apart from the database "
                             "(default for SQLite: template-keys beside the .sqlite file)")
    sub = parser.add_subparsers(required=True, metavar="command")
    _server_commands(sub)
    _master_commands(sub)
    _people_commands(sub)
    _recorder_commands(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.handler(args) or 0
    except AdminError as exc:
        print(f"kiosk-server: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
