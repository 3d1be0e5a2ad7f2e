"""出勤状況 as the server sees it (issue 12, item 6): ``GET /v1/presence``.

For each employee in the recorder's scope (own department + help-registered, :mod:`dakoku_server.scope`) who has
an accepted punch since the company's business day began (midnight in the company's time zone, never the
server machine's date), the last punch's kind and time, and the first 出勤 of the day. Punches from every
recorder count: the kiosk merges this with its own ledger (unsent punches there are newer than anything here).
"""
from __future__ import annotations

from datetime import datetime, time, timezone
from zoneinfo import ZoneInfo

from flask import Response, jsonify

from dakoku_server.api_corrections import not_cancelled
from dakoku_server.api_base import api_blueprint, caller
from dakoku_server.db import Punch
from dakoku_server.scope import in_scope_ids

blueprint = api_blueprint("presence", __name__)


def business_day_start(tz: ZoneInfo, now: datetime) -> datetime:
    """Midnight of ``now``'s date in ``tz``, as an aware datetime."""
    return datetime.combine(now.astimezone(tz).date(), time(0), tzinfo=tz)


def _iso(naive_utc: datetime) -> str:
    return naive_utc.replace(tzinfo=timezone.utc).isoformat()


@blueprint.get("/presence")
def presence() -> Response:
    who = caller()
    tz = ZoneInfo(who.company.timezone)
    start = business_day_start(tz, datetime.now(timezone.utc))
    since = start.astimezone(timezone.utc).replace(tzinfo=None)
    rows = (Punch.select(Punch.employee_key, Punch.kind, Punch.stamped_utc)
            .where((Punch.company == who.company) & (Punch.status == "accepted") & (Punch.stamped_utc >= since)
                   & Punch.employee.in_(in_scope_ids(who.recorder)) & not_cancelled(who.company))   # 取り消し
            .order_by(Punch.stamped_utc).tuples())
    latest: dict[str, dict] = {}
    for key, kind, at in rows:
        entry = latest.setdefault(key, {"employee_key": key, "clock_in_at": ""})
        entry.update(kind=kind, stamped_at=_iso(at))
        if kind == "clock_in" and not entry["clock_in_at"]:
            entry["clock_in_at"] = _iso(at)
    return jsonify({"business_day": start.date().isoformat(), "day_start": start.isoformat(),
                    "employees": list(latest.values())})
