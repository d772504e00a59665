"""The API's browsable documentation (/docs): Swagger UI served from this server, so it works without internet.

The Swagger UI files come from the `fastapi-offline` package; the page and its start-up script are ours (no
inline script, so the pages' Content-Security-Policy holds). Served only in demo mode or with
`[server] api_docs = true` (create_app decides).
"""

from __future__ import annotations

from pathlib import Path

import fastapi_offline
from fastapi import APIRouter
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

DOCS_DIR = Path(__file__).resolve().parents[2] / "web" / "docs"
SWAGGER_DIR = Path(fastapi_offline.__file__).resolve().parent / "static"

router = APIRouter(tags=["docs"])
router.mount("/static/swagger", StaticFiles(directory=SWAGGER_DIR), name="swagger-static")
router.mount("/static/docs", StaticFiles(directory=DOCS_DIR), name="docs-static")

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title} — API</title>
<link rel="icon" href="/static/swagger/favicon.png"><link rel="stylesheet" href="/static/swagger/swagger-ui.css">
</head><body><div id="swagger-ui"></div>
<script src="/static/swagger/swagger-ui-bundle.js"></script><script src="/static/docs/docs.js"></script>
</body></html>"""


@router.get("/docs", include_in_schema=False)
def docs_page() -> HTMLResponse:
    """Swagger UI over /openapi.json, from local files."""
    return HTMLResponse(_PAGE.format(title="One-window hall"), headers={"Cache-Control": "no-cache"})
