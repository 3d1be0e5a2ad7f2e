"""Handlers of the ``kiosk-server`` sub-commands (argument parsing is in dakoku_server.cli)."""
from __future__ import annotations

import json
import os
import sys

from dakoku_server import admin, private_files, recorders
from dakoku_server.db import (
    Company, Department, Employee, EmploymentType, HelpRegistration, Recorder, create_tables, open_database,
    set_setting, setting,
)


def _db(args) -> None:
    open_database(args.db)
    create_tables()


def _company(args) -> Company:
    _db(args)
    return admin.company(args.company)


def write_private(path: str, text: str) -> None:
    private_files.write_private(path, text)


def init(args) -> None:
    _db(args)
    if args.url:
        set_setting("public_url", args.url)
    if not setting("timecard_secret"):
        from dakoku_server.timecard import timecard_secret
        timecard_secret()
    print(f"database ready: {args.db}")


def tls_init(args) -> None:
    from dakoku_server.tls import create_local_ca
    files = create_local_ca(args.dir, args.host)
    _db(args)
    set_setting("ca_pem", files.ca_cert.read_text("ascii"))
    print(f"CA: {files.ca_cert}\nserver certificate: {files.server_cert}\nserver key: {files.server_key}")
    print("The CA is now carried in every recorder certificate issued from this database.")


def _template_keys(args) -> str:
    """The template keys directory (created with a first key here, before gunicorn forks its workers)."""
    from dakoku_server.template_vault import resolve_keys_dir, vault_at
    keys_dir = resolve_keys_dir(args.db, args.template_keys)
    if keys_dir is None:
        raise admin.AdminError("fingerprint templates are sealed with keys kept apart from the database: "
                               "give --template-keys DIR (a directory outside the database and its backups, "
                               "e.g. /etc/dakoku/template-keys; created with a first key if missing)")
    try:
        vault_at(keys_dir)
    except OSError as exc:
        raise admin.AdminError(f"cannot use the template keys directory {keys_dir}: {exc}") from None
    return keys_dir


def serve(args) -> None:
    from dakoku_server.app import ServerConfig
    from dakoku_server.auth import AuthConfig
    from dakoku_server.runner import ListenConfig, serve as run
    certfile, keyfile = args.certfile or "", args.keyfile or ""
    if args.tls_dir:
        certfile = certfile or os.path.join(args.tls_dir, "server.pem")
        keyfile = keyfile or os.path.join(args.tls_dir, "server.key")
    if not (certfile and keyfile) and not args.insecure_no_tls:
        raise admin.AdminError("TLS is on by default: give --tls-dir or --certfile/--keyfile "
                               "(or --insecure-no-tls behind a TLS proxy)")
    keys_dir = _template_keys(args)
    _db(args)
    config = ServerConfig(db_url=args.db, public_url=args.public_url, template_keys_dir=keys_dir,
                          auth=AuthConfig(args.timestamp_window, args.trust_proxy_header))
    if args.front_proxy and args.insecure_no_tls:
        raise admin.AdminError("--front-proxy terminates TLS: it needs --tls-dir or --certfile/--keyfile")
    listen = ListenConfig(args.host, args.port, "" if args.insecure_no_tls else certfile,
                          "" if args.insecure_no_tls else keyfile, args.workers, args.threads,
                          access_log=args.access_log, front=args.front_proxy or "", runtime_dir=args.runtime_dir)
    try:
        run(config, listen)
    except RuntimeError as exc:
        raise admin.AdminError(str(exc)) from None


def company_add(args) -> None:
    _db(args)
    print(admin.add_company(args.code, args.name, args.timezone).code)


def company_list(args) -> None:
    _db(args)
    for row in Company.select().order_by(Company.code):
        print(f"{row.code}\t{row.name}\t{row.timezone}\tversion={row.data_version}")


def ip_add(args) -> None:
    print(admin.allow_ip(_company(args), args.address))


def ip_remove(args) -> None:
    print(admin.disallow_ip(_company(args), args.address))


def ip_list(args) -> None:
    addresses = admin.allowed_ips(_company(args))
    print("\n".join(addresses) if addresses else "(empty: every address is allowed)")


def department_add(args) -> None:
    print(admin.add_department(_company(args), args.code, args.name).code)


def department_list(args) -> None:
    for row in Department.select().where(Department.company == _company(args)).order_by(Department.code):
        print(f"{row.code}\t{row.name}")


def type_add(args) -> None:
    print(admin.add_employment_type(_company(args), args.code, args.name, not args.no_break_punch).code)


def type_list(args) -> None:
    for row in EmploymentType.select().where(EmploymentType.company == _company(args)):
        print(f"{row.code}\t{row.name}\tbreak_punch={'yes' if row.break_punch_allowed else 'no'}")


def _employee_fields(args) -> dict:
    names = ("first_name", "last_name_kana", "first_name_kana", "login_id", "department", "employment_type",
             "hired_on", "retired_on", "password_punch_allowed", "password")
    fields = {name: getattr(args, name) for name in names if getattr(args, name, None) is not None}
    if args.last_name is not None:
        fields["last_name"] = args.last_name
    if args.password_stdin:
        fields["password"] = sys.stdin.readline().rstrip("\r\n")
    return fields


def employee_add(args) -> None:
    fields = _employee_fields(args)
    last_name, dept, etype = fields.pop("last_name"), fields.pop("department", None), fields.pop("employment_type", None)
    if not dept or not etype:
        raise admin.AdminError("--department and --type are required")
    row = admin.add_employee(_company(args), args.code, last_name, dept, etype, **fields)
    print(f"{row.code}\t{row.key}")


def employee_update(args) -> None:
    print(admin.update_employee(_company(args), args.code, **_employee_fields(args)).code)


def employee_delete(args) -> None:
    admin.delete_employee(_company(args), args.code)


def employee_list(args) -> None:
    query = (Employee.select(Employee, Department, EmploymentType).join(Department).switch(Employee)
             .join(EmploymentType).where(Employee.company == _company(args)).order_by(Employee.code))
    for e in query:
        print(f"{e.code}\t{e.display_name}\t{e.department.code}\t{e.employment_type.code}\t"
              f"hired={e.hired_on or '-'}\tretired={e.retired_on or '-'}\tpassword_punch={e.password_punch_allowed}\t{e.key}")


def card_add(args) -> None:
    print(admin.add_card(_company(args), args.employee, args.card_id).ref)


def card_delete(args) -> None:
    print("deleted" if admin.delete_card(_company(args), args.card_id) else "no such card")


def help_add(args) -> None:
    admin.add_help(_company(args), args.employee, args.department)


def help_delete(args) -> None:
    print("deleted" if admin.delete_help(_company(args), args.employee, args.department) else "none")


def help_list(args) -> None:
    query = (HelpRegistration.select(HelpRegistration, Employee, Department).join(Employee)
             .switch(HelpRegistration).join(Department).where(HelpRegistration.company == _company(args)))
    for row in query:
        print(f"{row.employee.code}\t{row.department.code}")


def _print_provisioning(prov: recorders.Provisioning, out: str | None) -> None:
    print(prov.text())
    if out:
        write_private(out, prov.text())
        print(f"(written to {out})", file=sys.stderr)


def recorder_add(args) -> None:
    prov = recorders.add_recorder(_company(args), args.code, args.department, device=args.device,
                                  name=args.name, server_url=args.url)
    _print_provisioning(prov, args.out)


def recorder_renew(args) -> None:
    _print_provisioning(recorders.renew_certificate(_company(args), args.code, server_url=args.url), args.out)


def recorder_revoke(args) -> None:
    print(f"revoked {recorders.revoke(_company(args), args.code)} key(s)")


def recorder_set(args) -> None:
    try:
        value = json.loads(args.value)
    except ValueError:
        value = args.value
    print(json.dumps(recorders.set_setting(_company(args), args.code, args.name, value), ensure_ascii=False))


def recorder_list(args) -> None:
    for rec in Recorder.select().where(Recorder.company == _company(args)).order_by(Recorder.code):
        live = [k.key_id for k in rec.keys if k.revoked_at is None]
        print(f"{rec.code}\t{rec.name}\t{rec.department.code}\t{rec.device}\tkey={live[0] if live else '(revoked)'}")


def recorder_pair(args) -> None:
    from dakoku_server import pairing_store
    issued = pairing_store.issue(_company(args), args.code, minutes=args.minutes, server_url=args.url)
    print(issued.text())
    print("At the kiosk: 設定 › 接続先変更 › ペアリングコードで設定. Using the code renews the recorder's certificate.")


def demo(args) -> None:
    from dakoku_server.demo import create_demo
    _db(args)
    result = create_demo(args.dir, host=args.host, port=args.port)
    print(result.summary(args.db))
