"""POST /v1/punches: a batch of punches, idempotent by punch UUID (unique per company), a result per punch.

Each new punch is re-checked with dakoku_core.domain.rules at its stamped time (converted to the company's time
zone), not the server's, once its stamp is known to lie in the employee's range (dakoku_server.punch_times).
Rejected punches are kept too (status ``rejected`` with the catalogue key), so nothing a kiosk sent is lost
and a re-sent UUID always gets the same answer (``duplicate`` with the ``recorded_status``). A malformed item
(dakoku_server.punch_items) fails alone. Items of kind ``cancel`` are corrections (取り消し), judged first by
dakoku_server.api_corrections; a punch they cancel does not count for the re-authentication rule.

The batch runs in one transaction (dakoku_server.punch_locks: on PostgreSQL it holds a lock per employee of the
batch, not the server's global write lock) and is judged with a fixed handful of queries
(dakoku_server.punch_batch). The unique index still decides: if the batch's INSERT hits it (an upload not
sharing our locks stored a UUID after our lookup) the batch is redone punch by punch (dakoku_server.punch_single).
What both paths share, the rule context and the per-punch results: dakoku_server.punch_judging.
"""
from __future__ import annotations

from zoneinfo import ZoneInfo

import peewee as pw
from flask import Response, g, jsonify

from dakoku_core.protocol.schemas import PUNCH_BATCH
from dakoku_server.api_base import api_blueprint, caller, json_body
from dakoku_server.db import Company
from dakoku_server.punch_batch import judge_batch
from dakoku_server.punch_judging import Receipt
from dakoku_server.punch_locks import punch_transaction
from dakoku_server.punch_single import judge_one

blueprint = api_blueprint("punches", __name__)


def store_punches(comp: Company, recorder, items: list, receipt: Receipt | None = None) -> list[dict]:
    """Judge and store a batch in one transaction (punch_locks); the result for each item, in order."""
    tz = ZoneInfo(comp.timezone)
    receipt = receipt or Receipt.now()
    with punch_transaction(comp.id, items):
        try:
            return judge_batch(comp, recorder, items, tz, receipt)
        except pw.IntegrityError:
            return [judge_one(comp, recorder, item, tz, receipt) for item in items]


@blueprint.post("/punches")
def upload_punches() -> Response:
    receipt = Receipt.now(g.config.auth.timestamp_window)         # before the body is read and judged
    body = json_body(PUNCH_BATCH)
    who = caller()
    return jsonify({"results": store_punches(who.company, who.recorder, body["punches"], receipt)})
