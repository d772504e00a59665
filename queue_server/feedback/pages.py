"""Pages of the feedback package: the window's evaluation pad, the reports page, the public feedback page."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse, HTMLResponse, Response
from fastapi.staticfiles import StaticFiles

from ..api.deps import CtxDep
from ..errors import NotFound

WEB = Path(__file__).resolve().parents[1] / "web"
router = APIRouter(include_in_schema=False)
for name in ("pad", "reports", "feedback"):
    router.mount(f"/static/{name}", StaticFiles(directory=WEB / name), name=f"{name}-static")


def _page(name: str) -> Response:
    return FileResponse(WEB / name / "index.html", media_type="text/html", headers={"Cache-Control": "no-cache"})


def _not_found(message: str) -> HTMLResponse:
    html = (
        '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>404</title></head>'
        f'<body style="font-family: sans-serif"><p>{message}</p></body></html>'
    )
    return HTMLResponse(html, status_code=404)


@router.get("/pad/{hall}/window/{n}", response_class=HTMLResponse)
def pad(hall: str, n: int, ctx: CtxDep) -> Response:
    """The window display in touch mode: the citizen evaluates the service just completed (评价器)."""
    try:
        h = ctx.hall(hall)
    except NotFound:
        return _not_found("没有这个大厅 / No such hall")
    if all(w.number != n for w in h.windows):
        return _not_found("没有这个窗口 / No such window")
    return _page("pad")


@router.get("/console/reports", response_class=HTMLResponse)
def reports_page() -> Response:
    """The supervisors' statistics and charts (统计分析)."""
    return _page("reports")


@router.get("/feedback/{hall}", response_class=HTMLResponse)
def feedback_page(hall: str, ctx: CtxDep) -> Response:
    """Public page: complaints (吐槽找茬) and online evaluation of a ticket by its track token."""
    try:
        ctx.hall(hall)
    except NotFound:
        return _not_found("没有这个大厅 / No such hall")
    return _page("feedback")
