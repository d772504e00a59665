"""Every HTML page sends the Content-Security-Policy with frame-ancestors; /docs works without internet and is
off outside demo mode unless `[server] api_docs` turns it on."""

from __future__ import annotations

import secrets
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser
from pydantic import SecretStr

from queue_server.settings import Settings, resolve

from ..harness import Api, LiveServer, fresh_database, serving
from .test_route_table import TABLE, app_routes

NOT_PAGES = ("/healthz", "/readyz", "/openapi.json", "/favicon.ico", "/metrics", "/wechat/bind/{track_token}")
NOT_PAGES += ("/wechat/oauth",)  # redirects to WeChat and back (notify/wechat_bind.py)
NOT_PAGES += ("/web/i18n/{domain}/{lang}.js", "/web/i18n/{domain}/{lang}.json")  # the pages' string catalogues
# /verify/{code} takes 16 to 48 characters
FILL = {"hall": "t1", "n": "1", "track_token": "no-such-token", "code": "no-such-code-0123456789"}


def _html_routes(live: LiveServer) -> list[str]:
    """The GET routes of the app that answer HTML (every non-API GET route and mount index is tried)."""
    out = []
    for key in sorted(app_routes(live.app)):
        method, path = key.split(" ", 1)
        if method != "GET" or path.startswith("/api/") or path in NOT_PAGES:
            continue
        for name, value in FILL.items():
            path = path.replace("{" + name + "}", value)
        assert "{" not in path, f"{key}: add its path parameter to FILL in tests/security/test_pages.py"
        out.append(path)
    return out


def test_every_html_page_sends_the_csp(api: Api) -> None:
    """Each page (and its 404 page) carries CSP with frame-ancestors 'none', X-Frame-Options and no-referrer."""
    pages = [*_html_routes(api.server), "/board/nohall", "/board/t1/window/99", "/pad/nohall/window/1"]
    assert len(pages) >= 12, pages  # boards, pad, feedback, case query, the console's four, docs, the 404s
    for path in pages:
        r = api.http.get(path)
        assert r.headers["content-type"].startswith("text/html"), (path, r.status_code, r.headers["content-type"])
        csp = r.headers.get("content-security-policy", "")
        assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp, (path, csp)
        assert "'unsafe-inline'" not in csp and "'unsafe-eval'" not in csp, (path, csp)
        assert r.headers.get("x-frame-options") == "DENY" and r.headers.get("referrer-policy") == "no-referrer", path
    # The API's JSON answers are not pages: no page policy on them (the table covers what they may do).
    assert "content-security-policy" not in api.http.get("/api/v1/halls").headers


def test_pages_have_no_inline_script() -> None:
    """What the CSP forbids is not there to break: no inline <script> or style attribute in any page file."""
    web = Path(__file__).resolve().parents[2] / "queue_server"
    pages = list(web.rglob("*.html"))
    assert len(pages) >= 8
    for page in pages:
        text = page.read_text(encoding="utf-8")
        assert "<script>" not in text and " style=" not in text and "<style" not in text, page


def test_docs_work_offline_in_a_browser(api: Api, browser: Browser) -> None:
    """Swagger UI renders the API from the server's own files: no request leaves loopback, no CSP violation."""
    from playwright.sync_api import Request

    outside: list[str] = []
    violations: list[str] = []
    page = browser.new_page()
    try:

        def only_loopback(route: object, request: Request) -> None:
            if request.url.startswith(api.server.url) or request.url.startswith("data:"):
                route.continue_()  # type: ignore[attr-defined]
            else:
                outside.append(request.url)
                route.abort()  # type: ignore[attr-defined]

        page.route("**/*", only_loopback)
        page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
        page.goto(f"{api.server.url}/docs")
        page.wait_for_selector(".opblock", timeout=30_000)
        assert page.locator(".opblock").count() >= 50
        assert "One-window hall" in page.inner_text(".information-container")
    finally:
        page.close()
    assert not outside, outside
    assert not violations, violations


def _config(tmp: Path, docs: str) -> Path:
    path = tmp / f"hall-{docs or 'default'}.toml"
    path.write_text(
        f'[server]\ndemo = false\n{docs}\n\n[[halls]]\ncode = "h1"\nname = "大厅"\n\n'
        '  [[halls.queues]]\n  code = "A"\n  name = "综合"\n  name_en = "General"\n\n'
        '  [[halls.windows]]\n  number = 1\n  queues = ["A"]\n',
        encoding="utf-8",
    )
    return path


@pytest.fixture
def production(tmp_path: Path) -> tuple[Path, str]:
    """A database for servers of a production-like configuration (demo = false)."""
    return tmp_path, fresh_database("sqlite", tmp_path)


@pytest.mark.parametrize(("docs", "served"), [("", False), ("api_docs = true", True), ("api_docs = false", False)])
def test_docs_are_off_outside_demo_unless_configured(production: tuple[Path, str], docs: str, served: bool) -> None:
    """`demo = false`: /docs and /openapi.json answer 404 unless `[server] api_docs = true`."""
    tmp, url = production
    key = SecretStr(secrets.token_urlsafe(48))  # outside demo the key must be strong (the harness's is a placeholder)
    rt = resolve(Settings(config=_config(tmp, docs), database_url=url, secret_key=key, var_dir=tmp / "var"))
    with serving(rt) as srv, httpx.Client(base_url=srv.url) as h:
        codes = {p: h.get(p).status_code for p in ("/docs", "/openapi.json", "/static/swagger/swagger-ui.css")}
    assert codes == dict.fromkeys(codes, 200 if served else 404), codes


def test_route_table_knows_the_docs(live: LiveServer) -> None:
    """The docs' routes are in the route × role table (public, in demo mode)."""
    assert {"GET /docs", "GET /openapi.json", "MOUNT /static/swagger", "MOUNT /static/docs"} <= TABLE.keys()
    assert {"GET /docs", "GET /openapi.json"} <= app_routes(live.app)
