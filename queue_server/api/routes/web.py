"""Web boards for TV browsers: the lobby board and window displays, plain HTML + ES modules, no build step."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse, HTMLResponse, Response
from fastapi.staticfiles import StaticFiles

from ...errors import NotFound
from ..deps import CtxDep

BOARD_DIR = Path(__file__).resolve().parents[2] / "web" / "board"
SHARED_DIR = BOARD_DIR.with_name("shared")  # ES modules every page uses (the event-stream follower)

router = APIRouter(tags=["boards"])
# A mounted sub-application: included routers keep their mounts, so create_app needs only include_router.
router.mount("/static/board", StaticFiles(directory=BOARD_DIR), name="board-static")
router.mount("/static/shared", StaticFiles(directory=SHARED_DIR), name="shared-static")


@router.get("/favicon.ico", include_in_schema=False)
def favicon() -> Response:
    """The pages' icon (政务红, 厅); browsers ask for it by this name, so no page needs a link to it."""
    return FileResponse(
        SHARED_DIR / "favicon.ico", media_type="image/x-icon", headers={"Cache-Control": "max-age=86400"}
    )


def _page() -> Response:
    return FileResponse(BOARD_DIR / "index.html", media_type="text/html", headers={"Cache-Control": "no-cache"})


def _not_found(message: str) -> HTMLResponse:
    html = (
        '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>404</title></head>'
        f'<body style="font-family: sans-serif"><p>{message}</p></body></html>'
    )
    return HTMLResponse(html, status_code=404)


@router.get("/board/{hall}", response_class=HTMLResponse, include_in_schema=False)
def lobby_board(hall: str, ctx: CtxDep) -> Response:
    """The lobby board page of a hall (大厅综合屏)."""
    try:
        ctx.hall(hall)
    except NotFound:
        return _not_found("没有这个大厅 / No such hall")
    return _page()


@router.get("/board/{hall}/window/{n}", response_class=HTMLResponse, include_in_schema=False)
def window_display(hall: str, n: int, ctx: CtxDep) -> Response:
    """The display above one window (窗口屏)."""
    try:
        h = ctx.hall(hall)
    except NotFound:
        return _not_found("没有这个大厅 / No such hall")
    if all(w.number != n for w in h.windows):
        return _not_found("没有这个窗口 / No such window")
    return _page()
