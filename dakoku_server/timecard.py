"""Timecard links: POST /v1/employees/<key>/timecard-url (signed) issues a short-lived URL; GET on it
renders a minimal HTML timecard of the employee's month (no recorder key needed: the kiosk opens it in
the browser).

The token is ``<base64url JSON {"e": employee key, "c": company code, "x": expiry epoch, "k": key id of the
recorder that asked}>.<base64url HMAC-SHA256>`` under the server's ``timecard_secret``. An expired or forged
link answers 403 with key ``auth_failed`` and reason ``timecard_link_expired`` / ``timecard_link_invalid``; a
link whose recorder key has been revoked or renewed since is dead too (``timecard_link_revoked``). The page
obeys the company's IP allow-list (403 ``ip_not_allowed``), sends ``Cache-Control: no-store``,
``Referrer-Policy: no-referrer`` and ``X-Frame-Options: DENY``, and its token never reaches a log (see
dakoku_server.log_redaction). The link's host is ``--public-url`` or the ``public_url`` set by ``init --url``,
never the request's Host header. Errors are JSON, or a small HTML page when the browser asks for HTML.

The page lists the month's punches; refused ones (status ``rejected``) are marked 要確認 with the catalogue
message of their reason (issue 9: nothing the kiosk confirmed disappears without a trace). A punch an accepted
correction cancels (取り消し, dakoku_server.api_corrections) is struck through and marked 取消; a refused
correction has a row of its own, 要確認 with its reason. The day's times (first 出勤, last 退勤, per date) count
accepted punches that are not cancelled.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, g, jsonify, render_template_string, request

from dakoku_core.protocol.certificate import b64url, b64url_decode
from dakoku_core.protocol.schemas import TIMECARD_URL_REQUEST
from dakoku_core.errors import KioskError
from dakoku_server.api_base import api_blueprint, caller, json_body
from dakoku_server.auth import client_address, ip_allowed
from dakoku_server.db import Company, Correction, Employee, Punch, RecorderKey, set_setting, setting
from dakoku_server.errors import ApiError
from dakoku_server.scope import scoped_employee

links = api_blueprint("timecard_links", __name__)    # signed: a recorder asks for a link
pages = Blueprint("timecard", __name__)             # public: the link itself
DEFAULT_TTL = 120
KIND_LABELS = {"clock_in": "出勤", "clock_out": "退勤", "break_start": "休憩開始", "break_end": "休憩終了"}

PAGE = """<!doctype html>
<html lang="ja"><head><meta charset="utf-8"><title>タイムカード {{ name }}</title>
<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}td,th{border:1px solid #999;padding:.3em .8em}</style>
</head><body>
<h1>タイムカード / Timecard</h1>
<p>{{ name }}({{ code }}) {{ department }} — {{ month }}</p>
<table><tr><th>日付 / Date</th><th>時刻 / Time</th><th>打刻 / Punch</th><th></th><th>要確認 / To check</th></tr>
{% for p in punches %}<tr class="{{ p.status }}"><td>{{ p.date }}</td>
{% if p.status == "cancelled" %}<td><s>{{ p.time }}</s></td><td><s>{{ p.kind }}</s> 取消</td>
{% else %}<td>{{ p.time }}</td><td>{{ p.kind }}</td>{% endif %}
<td>{{ p.mark }}</td><td>{% if p.review %}<strong>要確認</strong> {{ p.review }}{% endif %}</td></tr>
{% else %}<tr><td colspan="5">打刻はありません / No punches</td></tr>{% endfor %}
</table>
<h2>日ごとの時刻 / Day's times</h2>
<table class="days"><tr><th>日付 / Date</th><th>出勤 / In</th><th>退勤 / Out</th></tr>
{% for d in days %}<tr><td>{{ d.date }}</td><td>{{ d.clock_in }}</td><td>{{ d.clock_out }}</td></tr>{% endfor %}
</table><p><small>(L) = オフライン打刻 / offline punch. 要確認 = サーバーが受け付けなかった打刻 (理由) /
a punch the server refused (reason). 取消 = 打刻直後に取り消された打刻 / cancelled right after the punch
(not counted)</small></p></body></html>"""
PAGE_HEADERS = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer", "X-Frame-Options": "DENY",
                "X-Content-Type-Options": "nosniff"}
MIN_YEAR, MAX_YEAR = 1970, 9998

ERROR_PAGE = """<!doctype html><html lang="ja"><head><meta charset="utf-8"><title>{{ message }}</title></head>
<body><h1>{{ message }}</h1><p>{{ message_en }}</p><p><small>{{ reason }}</small></p></body></html>"""


def timecard_secret() -> bytes:
    """The key of the timecard links (HMAC-SHA256): made on first use, kept in the server's settings."""
    value = setting("timecard_secret")
    if not value:
        value = b64url(secrets.token_bytes(32))
        set_setting("timecard_secret", value)
    return b64url_decode(value)


def make_token(employee_key: str, company_code: str, expires: int, key_id: str) -> str:
    payload = b64url(json.dumps({"e": employee_key, "c": company_code, "x": expires, "k": key_id})
                     .encode("utf-8"))
    mac = hmac.new(timecard_secret(), payload.encode("ascii"), hashlib.sha256).digest()
    return f"{payload}.{b64url(mac)}"


def read_token(token: str, now: float) -> dict:
    payload, _, mac = token.partition(".")
    try:
        expected = hmac.new(timecard_secret(), payload.encode("ascii"), hashlib.sha256).digest()
        if not hmac.compare_digest(expected, b64url_decode(mac)):
            raise ValueError("bad mac")
        claims = json.loads(b64url_decode(payload))
        expires, key_id = int(claims["x"]), str(claims["k"])
    except (ValueError, UnicodeEncodeError, KeyError, TypeError):
        raise ApiError(403, "auth_failed", "timecard_link_invalid") from None
    if now > expires:
        raise ApiError(403, "auth_failed", "timecard_link_expired")
    key = RecorderKey.get_or_none(RecorderKey.key_id == key_id)
    if key is None or key.revoked_at is not None:
        raise ApiError(403, "auth_failed", "timecard_link_revoked")
    return claims


def public_base() -> str:
    """The links' base URL from configuration (``--public-url``, else ``init --url``), never from the request."""
    base = g.config.public_url or setting("public_url")
    if not base:
        raise ApiError(503, "server_error", "public_url_not_configured")
    return base.rstrip("/")


@links.post("/employees/<employee_key>/timecard-url")
def timecard_url(employee_key: str) -> Response:
    body = json_body(TIMECARD_URL_REQUEST)
    who = caller()
    scoped_employee(who.company, who.recorder, employee_key)
    expires = int(time.time()) + int(body.get("ttl_seconds", DEFAULT_TTL))
    url = f"{public_base()}/timecard/{make_token(employee_key, who.company.code, expires, who.key_id)}"
    return jsonify({"url": url, "expires_at": datetime.fromtimestamp(expires, timezone.utc).isoformat()})


def _month_bounds(month: str, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """The month ``YYYY-MM`` in the company's zone, as naive UTC [start, end)."""
    try:
        start = datetime.strptime(month, "%Y-%m").replace(tzinfo=tz)
    except ValueError:
        start = None
    if start is None or len(month) != 7 or not month.isascii() or not MIN_YEAR <= start.year <= MAX_YEAR:
        raise ApiError(400, "unexpected", "invalid_month")
    end = (start + timedelta(days=32)).replace(day=1)
    return tuple(t.astimezone(timezone.utc).replace(tzinfo=None) for t in (start, end))


def _month_rows(emp: Employee, tz: ZoneInfo, month: str) -> list[dict]:
    start, end = _month_bounds(month, tz)
    query = (Punch.select().where((Punch.employee == emp) & (Punch.stamped_utc >= start)
                                  & (Punch.stamped_utc < end)).order_by(Punch.stamped_utc))
    punches = list(query)
    cancelled, refused = _corrections(emp, [p.uuid for p in punches], start, end)
    rows = []
    for punch in sorted(punches + refused, key=lambda p: p.stamped_utc):
        local = punch.stamped_utc.replace(tzinfo=timezone.utc).astimezone(tz)
        status = "cancelled" if punch.uuid in cancelled else punch.status
        rows.append({"date": local.strftime("%Y-%m-%d"), "time": local.strftime("%H:%M"),
                     "kind": KIND_LABELS.get(punch.kind, punch.kind) if isinstance(punch, Punch) else "取消",
                     "mark": "(L)" if punch.offline else "", "status": status, "review": _review(punch),
                     "punch": punch.kind if status == "accepted" and isinstance(punch, Punch) else ""})
    return rows


def _corrections(emp: Employee, uuids: list[str], start: datetime, end: datetime) -> tuple[set[str], list]:
    """The month's punches that accepted corrections cancel, and the employee's refused corrections."""
    mine = (Correction.company == emp.company_id) & (Correction.employee_key == emp.key)
    cancelled = set()
    for begin in range(0, len(uuids), 500):
        cancelled |= {c for (c,) in Correction.select(Correction.cancels).where(
            mine & (Correction.status == "accepted") & Correction.cancels.in_(uuids[begin:begin + 500])).tuples()}
    refused = list(Correction.select().where(mine & (Correction.status == "rejected")
                                             & (Correction.stamped_utc >= start) & (Correction.stamped_utc < end)))
    return cancelled, refused


def _day_times(rows: list[dict]) -> list[dict]:
    """Per date: the first 出勤 and the last 退勤 among the punches that count (accepted, not cancelled)."""
    days: dict[str, dict] = {}
    for row in rows:
        day = days.setdefault(row["date"], {"date": row["date"], "clock_in": "", "clock_out": ""})
        if row["punch"] == "clock_in" and not day["clock_in"]:
            day["clock_in"] = row["time"]
        elif row["punch"] == "clock_out":
            day["clock_out"] = row["time"]
    return list(days.values())


def _review(punch: Punch | Correction) -> str:
    """The 要確認 text of a refused punch: its reason's catalogue message (ja / en); "" when accepted."""
    if punch.status != "rejected":
        return ""
    try:
        error = KioskError(punch.error_key, cause_letter=punch.error_cause or None)
        return f"{error.message('ja')} / {error.message('en')}"
    except (KeyError, ValueError):
        return punch.error_key


def _wants_html() -> bool:
    """A browser (text/html preferred over JSON) gets a small HTML error page; anything else JSON."""
    accept = request.accept_mimetypes
    return accept["text/html"] > accept["application/json"]


@pages.after_request
def _page_headers(response: Response) -> Response:
    response.headers.update(PAGE_HEADERS)
    return response


@pages.get("/timecard/<token>")
def timecard_page(token: str) -> Response:
    try:
        return _page(token)
    except ApiError as exc:
        if not _wants_html():
            raise
        body = exc.response().get_json()["error"]
        return Response(render_template_string(ERROR_PAGE, **body), status=exc.status, mimetype="text/html")


def _page(token: str) -> Response:
    claims = read_token(token, time.time())
    comp = Company.get_or_none(Company.code == claims["c"])
    if comp is not None and not ip_allowed(comp, client_address(request, g.config.auth)):
        raise ApiError(403, "ip_not_allowed", "ip_not_allowed")
    emp = Employee.get_or_none((Employee.company == comp) & (Employee.key == claims["e"])) if comp else None
    if emp is None:
        raise ApiError(404, "employee_not_found", "employee_not_found")
    tz = ZoneInfo(comp.timezone)
    month = request.args.get("month") or datetime.now(tz).strftime("%Y-%m")
    rows = _month_rows(emp, tz, month)
    html = render_template_string(PAGE, name=emp.display_name, code=emp.code, department=emp.department.name,
                                  month=month, punches=rows, days=_day_times(rows))
    return Response(html, mimetype="text/html")
