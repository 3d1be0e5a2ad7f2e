"""The remedy pages (docs/remedies/<page>.md) at ``/help/<page>``: what the kiosk's error dialog links to, as a
short URL and a QR code, so a manager at the kiosk reads the steps on a phone. Public, read-only, no
company data (docs/remedies/README.md says why the server serves them)."""
from __future__ import annotations

import html
import re

from flask import Blueprint, Response, abort

from dakoku_core.resources import resource_root

pages = Blueprint("help_pages", __name__)
PAGE_NAME = re.compile(r"[a-z][a-z0-9-]{0,40}")
TEMPLATE = ('<!doctype html><html lang="ja"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            '<title>{title}</title></head><body style="font-family: sans-serif; max-width: 40em; margin: 1em auto; '
            'padding: 0 1em; line-height: 1.6"><pre style="white-space: pre-wrap; font-family: inherit">{body}</pre>'
            '</body></html>')


@pages.get("/help/<page>")
def help_page(page: str) -> Response:
    if not PAGE_NAME.fullmatch(page) or page == "readme":
        abort(404)
    path = resource_root() / "docs" / "remedies" / f"{page}.md"
    if not path.is_file():
        abort(404)
    text = path.read_text("utf-8")
    title = text.split("\n", 1)[0].lstrip("# ").strip()
    return Response(TEMPLATE.format(title=html.escape(title), body=html.escape(text)),
                    mimetype="text/html")
