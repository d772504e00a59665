"""The web pages' string catalogues (issue 22): `GET /web/i18n/{domain}/{lang}.js` (an ES module a page imports)
and `…/{lang}.json` (what a page fetches and keeps), made from the gettext catalogues (queue_server/web_text.py).
Public and static — the same bytes for everyone until the server is upgraded — so cacheable, with an ETag."""

from __future__ import annotations

import hashlib

from fastapi import APIRouter, Request
from fastapi.responses import Response

from ...errors import NotFound
from ...web_text import DOMAINS, body

router = APIRouter(tags=["boards"])
MEDIA = {"js": "text/javascript; charset=utf-8", "json": "application/json"}


def _serve(domain: str, lang: str, kind: str, request: Request) -> Response:
    d = DOMAINS.get(domain)
    if d is None:
        raise NotFound(f"没有这个文本目录 / No string catalogue '{domain}' (there is: {', '.join(DOMAINS)})")
    if lang not in d.langs:
        raise NotFound(f"没有这种语言 / No language '{lang}' in '{domain}' (there is: {', '.join(d.langs)})")
    data = body(lang, kind)
    etag = '"' + hashlib.sha256(data).hexdigest()[:20] + '"'
    # cached for 5 minutes, then revalidated: an upgrade's new strings reach a board within minutes
    headers = {"Cache-Control": "public, max-age=300", "ETag": etag}
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    return Response(data, media_type=MEDIA[kind], headers=headers)


@router.get("/web/i18n/{domain}/{lang}.js", include_in_schema=False)
def catalogue_module(domain: str, lang: str, request: Request) -> Response:
    """A language's catalogue as an ES module (`import ZH from "/web/i18n/web/zh.js"`)."""
    return _serve(domain, lang, "js", request)


@router.get("/web/i18n/{domain}/{lang}.json", include_in_schema=False)
def catalogue_json(domain: str, lang: str, request: Request) -> Response:
    """A language's catalogue as JSON ({page: {key: text}})."""
    return _serve(domain, lang, "json", request)
