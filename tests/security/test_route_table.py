"""The route × role table: every route of the app has an explicit entry saying who may call it, checked over HTTP.

A route added without an entry fails `test_every_route_has_an_entry`: add one to TABLE below (who may call
it and, for a route that needs one, a body that passes validation), then run this file.

Callers: `anonymous` (no token), the hall t1's `kiosk` and `display` devices, its `clerk` (clerk1, any
window), `approver`, `auditor`, and `admin` (every hall). Each entry is checked three ways: every caller
outside `allow` is refused (401/403); a caller of another hall (clerk-t2, kiosk-t2) is refused (403, or
404 where the rule hides the subject); a clerk bound to window 2 (clerk2) is refused on a window-1 route
(`window=True`). A caller inside `allow` is never answered 401/403 (unless `deny_ok` lists it, for a route
that refuses it by the subject's state).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from starlette.routing import Mount, WebSocketRoute

from ..harness import DESK, DISPLAY, KIOSK, KIOSK_T2, Api, LiveServer
from .world import build_world

CALLERS = ("anonymous", "kiosk", "display", "desk", "clerk", "approver", "auditor", "admin")
TOKENS = {"kiosk": KIOSK, "display": DISPLAY, "clerk": "clerk1", "approver": "approver1", "auditor": "auditor1"}
TOKENS["desk"] = DESK  # the general desk's agent (peripherals/desk_agent)
TOKENS["admin"] = "admin"
OTHER_HALL = ("clerk-t2", KIOSK_T2)  # callers of hall t2
OTHER_WINDOW = "clerk2"  # a clerk of t1 bound to window 2

ALL = frozenset(CALLERS)
STAFF = frozenset({"clerk", "approver", "auditor", "admin"})
DEVICES_AND_STAFF = ALL - {"anonymous"}


def only(*who: str) -> frozenset[str]:
    """These callers and admin."""
    return frozenset(who) | {"admin"}


@dataclass(frozen=True)
class Rule:
    """Who may call a route, and what a call needs to pass validation."""

    allow: frozenset[str]
    hall: bool = True  # callers of another hall are refused
    hidden: bool = False  # ... with 404 (the subject is not shown to another hall) instead of 403
    window: bool = False  # a clerk bound to another window is refused
    json: Any = None
    params: dict[str, Any] = field(default_factory=dict)
    files: bool = False  # a multipart submission
    fill: dict[str, str] = field(default_factory=dict)  # path parameter -> key of the world to fill it with
    deny_ok: frozenset[str] = frozenset()  # allowed callers the subject's state may still refuse


PUBLIC = Rule(ALL, hall=False)
TODAY = "{today}"
NOTE = {"note": "ok"}
EVAL = {"level": 5, "ticket_id": "{ticket_id}"}
CASE = {"number": "case"}
# One entry per route: "METHOD /path" (WS for a websocket, MOUNT for static files).
TABLE: dict[str, Rule] = {
    # public: no personal data, or the caller's own proof in the path
    "GET /healthz": PUBLIC,
    "GET /readyz": PUBLIC,
    "GET /metrics": PUBLIC,
    "GET /favicon.ico": PUBLIC,  # demo mode; outside it only with [server] metrics_token (test_metrics.py)
    "GET /api/v1/halls": PUBLIC,
    "GET /api/v1/halls/{hall}/queues": PUBLIC,
    "GET /api/v1/halls/{hall}/board": PUBLIC,
    "GET /api/v1/halls/{hall}/windows": PUBLIC,
    "GET /api/v1/halls/{hall}/slots": Rule(ALL, hall=False, params={"queue": "A", "date": TODAY}),
    "GET /api/v1/track/{track_token}": PUBLIC,  # misses limited per address (tests/web/test_track_api.py)
    "POST /api/v1/track/{track_token}/cancel": Rule(ALL, hall=False, deny_ok=ALL),  # refused by state: 403
    # stop WeChat notices (this ticket's and its phone's later ones): by the token, limited per address; 404 in a
    # hall without WeChat notices (tests/notify/test_wechat_binding.py)
    "POST /api/v1/track/{track_token}/wechat/unbind": PUBLIC,
    "GET /api/v1/appointments/{code}": PUBLIC,
    "GET /api/v1/home-visits/{code}": PUBLIC,
    "GET /api/v1/items": PUBLIC,
    "GET /api/v1/items/domains": PUBLIC,
    "GET /api/v1/items/{code}": Rule(ALL, hall=False, fill={"code": "item"}),
    "GET /api/v1/feedback/catalogue": PUBLIC,
    "GET /api/v1/complaints/{code}": Rule(
        ALL, hall=False, fill={"code": "complaint_code"}, params={"proof": "{complaint_proof}"}
    ),
    "GET /api/v1/cases/{number}/status": Rule(ALL, hall=False, fill=CASE, params={"proof": "{proof}"}),
    "GET /api/v1/chains": PUBLIC,  # 一链办理: the chains and their one form
    "GET /api/v1/chains/{code}": Rule(ALL, hall=False, fill={"code": "chain_code"}),
    "GET /api/v1/chain-cases/{number}/status": Rule(
        ALL, hall=False, fill={"number": "chain"}, params={"proof": "{chain_proof}"}
    ),
    "GET /api/v1/cases/{number}/receipt.pdf": Rule(ALL, hall=False, fill=CASE, params={"proof": "{proof}"}),
    # the citizen's own 电子证照 with the receipt's query code (the world's case has none yet: 404 for anyone)
    "GET /api/v1/cases/{number}/certificate.pdf": Rule(ALL, hall=False, fill=CASE, params={"proof": "{proof}"}),
    # a certificate's public verification (random 192-bit code; limited per address, test_certificates.py)
    "GET /api/v1/verify/{code}": Rule(ALL, hall=False, fill={"code": "cert_code"}),
    "POST /api/v1/auth/token": Rule(ALL, hall=False, deny_ok=ALL),  # a wrong password: 401 for anyone
    "GET /api/v1/auth/me": Rule(DEVICES_AND_STAFF, hall=False),
    "POST /api/v1/admin/users/{username}/revoke": Rule(only(), hall=False),  # admin: 404 for the unknown user
    # citizens' own requests: anonymous, or a device/clerk of the hall acting for them
    "POST /api/v1/halls/{hall}/remote-tickets": Rule(
        ALL, hall=False, json={"queue": "A", "phone": "13800000000", "code": "000000"}
    ),
    "POST /api/v1/halls/{hall}/remote-tickets/verify": Rule(
        ALL, hall=False, json={"queue": "A", "phone": "13800000000"}
    ),
    "POST /api/v1/halls/{hall}/appointments": Rule(
        only("anonymous", "kiosk", "clerk"), json={"queue": "A", "start": "{slot}", "name": "张三", "id_number": "x"}
    ),
    "GET /api/v1/appointments/{code}/confirmation.pdf": Rule(only("anonymous", "kiosk", "clerk")),
    "POST /api/v1/appointments/{code}/cancel": Rule(only("anonymous", "kiosk", "clerk")),
    "POST /api/v1/appointments/{code}/reschedule": Rule(only("anonymous", "kiosk", "clerk"), json={"start": "{slot}"}),
    "POST /api/v1/appointments/{code}/check-in": Rule(only("anonymous", "kiosk", "clerk")),
    "POST /api/v1/halls/{hall}/appointments/check-in": Rule(
        only("anonymous", "kiosk", "clerk"), json={"id_number": "{id_number}"}
    ),
    "POST /api/v1/halls/{hall}/home-visits": Rule(
        only("anonymous", "kiosk", "clerk"),
        json={"queue": "C", "name": "孙", "id_number": "{id_number}", "phone": "13700001111", "address": "x"},
    ),
    "POST /api/v1/home-visits/{code}/cancel": Rule(only("anonymous", "kiosk", "clerk")),
    "POST /api/v1/halls/{hall}/cases": Rule(only("anonymous", "kiosk", "clerk"), files=True),  # web: X-Phone-Proof
    # 网上预审: a phone's code and proof (limited per address and phone), a web case by its proof (404 without)
    "POST /api/v1/halls/{hall}/web-cases/code": Rule(ALL, hall=False, json={"phone": "13800000000"}),
    "POST /api/v1/halls/{hall}/web-cases/proof": Rule(ALL, hall=False, json={"phone": "13800000000", "code": "000000"}),
    "GET /api/v1/web-cases/{number}": Rule(ALL, hall=False, fill=CASE),
    "POST /api/v1/web-cases/{number}/resubmit": Rule(ALL, hall=False, fill=CASE, files=True),
    "POST /api/v1/web-cases/{number}/appointment": Rule(ALL, hall=False, fill=CASE, json={"start": "{slot}"}),
    "POST /api/v1/halls/{hall}/chains": Rule(only("anonymous", "kiosk", "clerk"), files=True),  # 422: a case body
    # 一链办理 from the web: a web chain by its proof (404 without; the world's chain came from a kiosk)
    "GET /api/v1/web-chains/{number}": Rule(ALL, hall=False, fill={"number": "chain"}),
    "POST /api/v1/web-chains/{number}/resubmit": Rule(ALL, hall=False, fill={"number": "chain"}, files=True),
    "POST /api/v1/web-chains/{number}/appointment": Rule(
        ALL, hall=False, fill={"number": "chain"}, json={"start": "{slot}"}
    ),
    "POST /api/v1/halls/{hall}/evaluations": Rule(frozenset({"anonymous", "kiosk", "display"}), json=EVAL),
    "POST /api/v1/halls/{hall}/complaints": Rule(
        frozenset({"anonymous", "kiosk", "admin"}), json={"category": "service", "content": "窗口人员态度不好"}
    ),
    # devices
    "POST /api/v1/halls/{hall}/tickets": Rule(only("kiosk", "clerk"), json={"queue": "A"}),
    "POST /api/v1/devices/health": Rule(frozenset({"kiosk", "display", "desk"}), hall=False, json={"status": "ok"}),
    "POST /api/v1/halls/{hall}/pickup": Rule(only("kiosk"), json={"number": "{case}", "code": "000000"}),
    "POST /api/v1/halls/{hall}/cases/lookup": Rule(only("kiosk", "clerk"), json={"id_number": "{id_number}"}),
    "POST /api/v1/cases/{number}/materials": Rule(only("kiosk", "clerk"), fill=CASE, files=True),
    "POST /api/v1/cases/{number}/pickup-ticket": Rule(only("kiosk", "clerk"), fill=CASE),
    "GET /api/v1/halls/{hall}/windows/{number}/evaluation": Rule(frozenset({"display", "kiosk", "admin"})),
    # the pad's optional reasons after a one-tap rating: only the device of the window that recorded it
    "POST /api/v1/halls/{hall}/evaluations/{item}/reasons": Rule(
        only("display", "kiosk"),
        json={"reasons": ["fast"]},
        fill={"item": "evaluation"},
        deny_ok=frozenset({"display", "kiosk", "admin"}),
    ),
    # tickets and windows
    "GET /api/v1/halls/{hall}/tickets": Rule(only("clerk", "approver", "auditor")),
    "GET /api/v1/tickets/{ticket_id}": Rule(only("clerk", "kiosk", "approver", "auditor")),
    "POST /api/v1/tickets/{ticket_id}/transfer": Rule(only("clerk"), json={"queue": "B"}),
    "POST /api/v1/tickets/{ticket_id}/reveal": Rule(only("clerk", "approver"), window=True),
    "POST /api/v1/tickets/{ticket_id}/{action}": Rule(only("clerk", "kiosk"), deny_ok=frozenset({"kiosk"})),
    "POST /api/v1/console/tickets/{ticket_id}/reveal": Rule(only("clerk"), window=True),
    "POST /api/v1/halls/{hall}/windows/{number}/call-next": Rule(only("clerk"), window=True),
    "POST /api/v1/halls/{hall}/windows/{number}/complete-and-call-next": Rule(
        only("clerk"), window=True, json={"ticket_id": "{ticket_id}"}
    ),
    "POST /api/v1/halls/{hall}/windows/{number}/call": Rule(only("clerk"), window=True, json={"number": "A999"}),
    "POST /api/v1/halls/{hall}/windows/{number}/status": Rule(only("clerk"), window=True, json={"status": "open"}),
    "POST /api/v1/halls/{hall}/notice": Rule(only("clerk"), json={"text": "ok"}),
    "GET /api/v1/halls/{hall}/console/windows/{number}": Rule(only("clerk"), window=True),
    "GET /api/v1/halls/{hall}/console/overview": Rule(only("clerk", "approver", "auditor")),
    "GET /api/v1/halls/{hall}/notifications": Rule(only("clerk", "auditor")),
    "POST /api/v1/notifications/{notification_id}/retry": Rule(only("clerk")),
    "GET /api/v1/tickets/{ticket_id}/cases": Rule(only("clerk")),
    # the general desk (总服务台, /console/desk): clerks of the hall (and admins) work it — they issue walk-in
    # tickets, book for callers, check in and rejoin through the routes above that clerks may call
    "GET /api/v1/halls/{hall}/desk/appointments": Rule(only("clerk")),
    "GET /api/v1/halls/{hall}/desk/no-shows": Rule(only("clerk")),
    "GET /api/v1/halls/{hall}/desk/setup": Rule(only("clerk")),
    # the desk page's 读卡 / 打印 (409 while no agent is connected) and its one fetch of a read card (404 here)
    "POST /api/v1/halls/{hall}/desk/read": Rule(only("clerk"), json={"device": "desk-t1"}),
    "POST /api/v1/halls/{hall}/desk/print": Rule(only("clerk"), json={"device": "desk-t1", "ticket_id": "{ticket_id}"}),
    "GET /api/v1/halls/{hall}/desk/cards/{card_id}": Rule(only("clerk"), fill={"card_id": "ticket_id"}),
    # the desk agent's own calls, with its device token
    "POST /api/v1/desk-agent/cards": Rule(frozenset({"desk"}), json={"request": "r1", "error": "no card"}),
    "GET /api/v1/desk-agent/tickets/{ticket_id}": Rule(frozenset({"desk"})),
    "POST /api/v1/desk-agent/printed": Rule(
        frozenset({"desk"}), json={"job": "j1", "ticket_id": "{ticket_id}", "ok": True}
    ),
    "POST /api/v1/halls/{hall}/desk/qr": Rule(only("clerk"), json={"text": "https://hall.example/track/x"}),
    # home visits
    "GET /api/v1/halls/{hall}/home-visits": Rule(only("clerk", "auditor")),
    "POST /api/v1/home-visits/{code}/schedule": Rule(only("clerk"), json={"visit_at": "{slot}"}),
    "POST /api/v1/home-visits/{code}/complete": Rule(only("clerk"), json=NOTE),
    "POST /api/v1/home-visits/{code}/reject": Rule(only("clerk"), json=NOTE),
    # cases
    "GET /api/v1/halls/{hall}/cases": Rule(only("clerk", "approver", "auditor")),
    "GET /api/v1/halls/{hall}/prereview": Rule(only("clerk")),  # 网上预审: the front desk's list
    "POST /api/v1/cases/{number}/prereview/pass": Rule(only("clerk"), fill=CASE, json={}),  # 409 by state
    "POST /api/v1/cases/{number}/prereview/return": Rule(only("clerk"), fill=CASE, json={"note": "x"}),
    "POST /api/v1/halls/{hall}/cases/search": Rule(
        only("clerk", "approver", "auditor"), json={"id_number": "{id_number}"}
    ),
    "GET /api/v1/halls/{hall}/worklist": Rule(only("clerk", "approver", "auditor")),
    "GET /api/v1/cases/{number}": Rule(only("clerk", "approver", "auditor"), fill=CASE),
    "POST /api/v1/cases/{number}/reveal": Rule(only("clerk", "approver"), fill=CASE),
    "POST /api/v1/cases/{number}/actions/{action}": Rule(  # action "review": the approver's
        only("approver"), fill=CASE | {"action": "case_action"}, json=NOTE
    ),
    "GET /api/v1/cases/{number}/documents/{doc_id}.pdf": Rule(only("clerk", "approver", "auditor"), fill=CASE),
    "GET /api/v1/chain-cases/{number}": Rule(only("clerk", "approver", "auditor"), fill={"number": "chain"}),
    "POST /api/v1/chain-cases/{number}/actions/{action}": Rule(  # notify_missing without problems: 422
        only("clerk"), fill={"number": "chain", "action": "chain_action"}, json=NOTE
    ),
    # 网上预审 of a chain as one (409 by state: the world's chain is no web chain)
    "POST /api/v1/chain-cases/{number}/prereview/pass": Rule(only("clerk"), fill={"number": "chain"}, json={}),
    "POST /api/v1/chain-cases/{number}/prereview/return": Rule(
        only("clerk"), fill={"number": "chain"}, json={"note": "x"}
    ),
    "GET /api/v1/cases/{number}/commitment-letter.pdf": Rule(
        only("clerk"), fill=CASE, params={"commitments": "x"}, deny_ok=frozenset({"clerk", "admin"})
    ),
    "GET /api/v1/cases/{number}/materials/{material_id}": Rule(only("clerk", "approver", "auditor"), fill=CASE),
    "GET /api/v1/cases/{number}/certificates/{code}.pdf": Rule(
        only("clerk", "approver", "auditor"), fill={"number": "cert_case", "code": "cert_code"}
    ),
    "POST /api/v1/certificates/{code}/revoke": Rule(
        only("approver"), json={"reason": "test"}, fill={"code": "cert_code"}
    ),
    "POST /api/v1/halls/{hall}/handovers": Rule(only("clerk"), json={"cases": ["{case}"]}),
    "GET /api/v1/halls/{hall}/handovers": Rule(only("clerk", "approver", "auditor")),
    "POST /api/v1/halls/{hall}/handovers/{number}/receive": Rule(only("approver"), fill={"number": "handover"}),
    "GET /api/v1/halls/{hall}/handovers/{number}.pdf": Rule(
        only("clerk", "approver", "auditor"), fill={"number": "handover"}
    ),
    # the 帮办代办 ledger: the window's clerks write, supervisors and clerks read
    "POST /api/v1/halls/{hall}/assist/records": Rule(
        only("clerk"), json={"kind": "assist", "person": "李四", "minutes": 5, "outcome": "advice"}
    ),
    "GET /api/v1/halls/{hall}/assist/records": Rule(only("clerk", "approver", "auditor")),
    "GET /api/v1/halls/{hall}/assist/records.{fmt}": Rule(only("clerk", "approver", "auditor")),
    "GET /api/v1/halls/{hall}/assist/stats": Rule(only("clerk", "approver", "auditor")),
    "POST /api/v1/halls/{hall}/assist/projects": Rule(only("clerk"), json={"name": "项目", "organisation": "某公司"}),
    "GET /api/v1/halls/{hall}/assist/projects": Rule(only("clerk", "approver", "auditor")),
    "POST /api/v1/assist/projects/{project_id}/milestones": Rule(
        only("clerk"), json={"name": "立项", "due": TODAY}, fill={"project_id": "assist_project"}
    ),
    "POST /api/v1/assist/projects/{project_id}/milestones/{milestone_id}/done": Rule(
        only("clerk"),
        json={},
        fill={"project_id": "assist_project", "milestone_id": "assist_milestone"},
        deny_ok=frozenset(),
    ),
    # items (the catalogue's editing is the admin's)
    "GET /api/v1/items/{code}/versions": Rule(only(), hall=False, fill={"code": "item"}),
    "POST /api/v1/items": Rule(only(), hall=False, json={}),
    # feedback and reports
    "GET /api/v1/halls/{hall}/evaluations": Rule(only("approver", "auditor")),
    "GET /api/v1/halls/{hall}/followups": Rule(only("approver", "auditor")),
    "POST /api/v1/halls/{hall}/followups/{item}/{step}": Rule(only("approver"), json=NOTE, fill={"item": "followup"}),
    # complaints (/console/complaints): the supervisors (approver, auditor; admin) see them all, a clerk only
    # those routed to them (the assignee); the approver routes and closes, the assignee or approver answers
    "GET /api/v1/halls/{hall}/complaints": Rule(only("clerk", "approver", "auditor")),
    "GET /api/v1/halls/{hall}/complaint-handlers": Rule(only("approver")),
    "POST /api/v1/halls/{hall}/complaints/{item}/assign": Rule(
        only("approver"), json={"handler": "clerk1"}, fill={"item": "complaint"}
    ),
    "POST /api/v1/halls/{hall}/complaints/{item}/answer": Rule(
        only("approver", "clerk"), json={"answer": "ok"}, fill={"item": "complaint"}, deny_ok=frozenset({"clerk"})
    ),
    "POST /api/v1/halls/{hall}/complaints/{item}/close": Rule(only("approver"), json=NOTE, fill={"item": "complaint"}),
    "GET /api/v1/halls/{hall}/reports/summary": Rule(only("approver", "auditor")),
    "GET /api/v1/halls/{hall}/reports/summary.{fmt}": Rule(only("approver", "auditor")),
    "GET /api/v1/halls/{hall}/reports/queue-length": Rule(only("approver", "auditor")),
    "GET /api/v1/halls/{hall}/reports/utilisation": Rule(only("approver", "auditor")),
    "GET /api/v1/halls/{hall}/reports/cases": Rule(only("approver", "auditor")),
    "GET /api/v1/halls/{hall}/reports/overview": Rule(only("approver", "auditor")),
    "GET /api/v1/halls/{hall}/reports/mine": Rule(only("clerk")),  # the caller's own figures only
    # pages (they hold no data: it comes from the API with the caller's token), static files, the API docs
    "GET /board/{hall}": PUBLIC,
    "GET /board/{hall}/window/{n}": PUBLIC,
    "GET /pad/{hall}/window/{n}": PUBLIC,
    "GET /feedback/{hall}": PUBLIC,
    "GET /track/{track_token}": PUBLIC,  # the tracking page: the same static page for every token
    # the pages' string catalogues (static: the same for every caller; tests/web/test_web_catalogue.py)
    "GET /web/i18n/{domain}/{lang}.js": Rule(ALL, hall=False, fill={"domain": "web_domain", "lang": "web_lang"}),
    "GET /web/i18n/{domain}/{lang}.json": Rule(ALL, hall=False, fill={"domain": "web_domain", "lang": "web_lang"}),
    # WeChat openid binding from the tracking page: by its token, then WeChat's redirect back with a signed
    # state; both limited per address (tests/notify/test_wechat_binding.py); 404 without WeChat notices
    "GET /wechat/bind/{track_token}": PUBLIC,
    "GET /wechat/oauth": Rule(ALL, hall=False, params={"code": "c", "state": "1.1.n.m"}),
    "GET /cases/query": PUBLIC,
    "GET /cases/apply": PUBLIC,  # 网上申报 · 网上预审 (its data comes from the API with the phone's proof)
    "GET /verify/{code}": Rule(ALL, hall=False, fill={"code": "cert_code"}),  # the same static page for every code
    "GET /console": PUBLIC,
    "GET /console/hall": PUBLIC,
    "GET /console/cases": PUBLIC,
    "GET /console/reports": PUBLIC,
    "GET /console/desk": PUBLIC,  # the desk's data: clerks (desk routes above)
    "GET /console/complaints": PUBLIC,  # the complaints' data: supervisors, or the assignee (routes above)
    "GET /console/assist": PUBLIC,  # the 帮办代办 ledger's data: the assist routes above
    "MOUNT /static/board": PUBLIC,
    "MOUNT /static/shared": PUBLIC,
    "MOUNT /static/console": PUBLIC,
    "MOUNT /static/cases": PUBLIC,
    "MOUNT /static/pad": PUBLIC,
    "MOUNT /static/reports": PUBLIC,
    "MOUNT /static/feedback": PUBLIC,
    "MOUNT /static/track": PUBLIC,
    "GET /openapi.json": PUBLIC,  # the API docs: in demo mode or with [server] api_docs = true (test_pages.py)
    "GET /docs": PUBLIC,
    "MOUNT /static/swagger": PUBLIC,
    "MOUNT /static/docs": PUBLIC,
    # the hall's event stream: anonymous boards, or a token of the hall (checked in test_websocket_rule)
    "WS /ws/halls/{hall}/events": PUBLIC,
    # one ticket's public state for its tracking page, by its token (tests/web/test_track_api.py)
    "WS /ws/track/{token}": PUBLIC,
}


def _walk(routes: list[Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    for r in routes:
        if type(r).__name__ == "_IncludedRouter":  # FastAPI's included router: its routes keep their paths
            yield from _walk(r.original_router.routes, prefix + r.include_context.prefix)
        else:
            yield prefix + str(getattr(r, "path", "")), r


def app_routes(app: FastAPI) -> set[str]:
    """Every route of the app as "METHOD /path": the OpenAPI document's, plus pages, mounts and websockets."""
    keys = {f"{m.upper()} {p}" for p, ops in app.openapi()["paths"].items() for m in ops}
    for path, r in _walk(list(app.routes)):
        if isinstance(r, WebSocketRoute) or type(r).__name__ == "APIWebSocketRoute":
            keys.add(f"WS {path}")
        elif isinstance(r, Mount):
            keys.add(f"MOUNT {path}")
        elif not getattr(r, "include_in_schema", True):
            keys |= {f"{m} {path}" for m in getattr(r, "methods", ()) if m != "HEAD"}
    return keys


def test_every_route_has_an_entry(live: LiveServer) -> None:
    """A new route must get an entry in TABLE (who may call it); a removed one must lose it."""
    routes = app_routes(live.app)
    missing = sorted(routes - TABLE.keys())
    assert not missing, (
        "routes without an entry in the route × role table — add each to TABLE in "
        f"tests/security/test_route_table.py, saying who may call it: {missing}"
    )
    stale = sorted(TABLE.keys() - routes)
    assert not stale, f"entries of tests/security/test_route_table.py for routes that no longer exist: {stale}"


@pytest.fixture(scope="module")
def world(live: LiveServer) -> Iterator[tuple[Api, dict[str, Any]]]:
    """The live server with the world built once (per database)."""
    live.reset()
    api = Api(live)
    try:
        yield api, build_world(api)
    finally:
        api.close()


def _fill(value: Any, w: dict[str, Any]) -> Any:
    if isinstance(value, str) and value.startswith("{") and value.endswith("}"):
        return w[value[1:-1]]
    if isinstance(value, dict):
        return {k: _fill(v, w) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, w) for v in value]
    return value


def _url(path: str, rule: Rule, w: dict[str, Any]) -> str:
    out = path
    for name in [p.split("}")[0] for p in path.split("{")[1:]]:
        default = ("code_visit" if "home-visits" in path else "code_appointment") if name == "code" else name
        key = rule.fill.get(name, default)
        out = out.replace("{" + name + "}", str(w[key]))
    return out


def call(api: Api, key: str, rule: Rule, w: dict[str, Any], who: str | None) -> httpx.Response:
    """One call of the route as `who` (None: anonymous)."""
    method, path = key.split(" ", 1)
    headers = api.auth(who) if who else {}
    url = _url(path, rule, w)
    kw: dict[str, Any] = {"headers": headers, "params": _fill(rule.params, w)}
    if rule.files:
        from ..cases.helpers import jpeg, pdf, submission, web_proof

        if who is None:  # a web submission proves its phone (网上申报)
            headers["X-Phone-Proof"] = web_proof(api)

        kw["data"] = {"data": json.dumps(submission())}
        kw["files"] = [
            ("file.application", ("form.pdf", pdf(), "application/pdf")),
            ("file.id_card", ("id.jpg", jpeg(), "image/jpeg")),
        ]
    elif key == "POST /api/v1/auth/token":
        kw["data"] = {"username": "nobody", "password": "x"}
    elif method == "POST":
        kw["json"] = _fill(rule.json, w) if rule.json is not None else None
    if method == "MOUNT":
        return api.http.get(url + "/favicon.png" if url == "/static/swagger" else url + "/index.html", **kw)
    return api.http.request(method, url, **kw)


def _who(caller: str) -> str | None:
    return None if caller == "anonymous" else TOKENS[caller]


HTTP_ROUTES = sorted(k for k in TABLE if not k.startswith("WS "))


@pytest.mark.parametrize("key", HTTP_ROUTES)
def test_route_follows_its_rule(world: tuple[Api, dict[str, Any]], key: str) -> None:
    """Callers outside the rule are refused; callers inside it are not."""
    api, w = world
    rule = TABLE[key]
    api.server.ctx.limiter.clear()
    wrong: list[str] = []
    for caller in CALLERS:
        if caller in rule.allow:
            continue
        r = call(api, key, rule, w, _who(caller))
        if r.status_code not in (401, 403):
            wrong.append(f"{caller} → {r.status_code} {r.text[:120]}")
    if rule.hall:
        for other in OTHER_HALL:
            r = call(api, key, rule, w, other)
            if r.status_code not in ((403, 404) if rule.hidden else (403,)):
                wrong.append(f"{other} (hall t2) → {r.status_code} {r.text[:120]}")
    if rule.window:
        r = call(api, key, rule, w, OTHER_WINDOW)
        if r.status_code != 403:
            wrong.append(f"{OTHER_WINDOW} (window 2) → {r.status_code} {r.text[:120]}")
    for caller in sorted(rule.allow):
        r = call(api, key, rule, w, _who(caller))
        if r.status_code in (401, 403) and caller not in rule.deny_ok:
            wrong.append(f"{caller} (allowed) → {r.status_code} {r.text[:120]}")
        assert r.status_code < 500, f"{key} as {caller}: {r.status_code} {r.text[:200]}"
    assert not wrong, f"{key} breaks its rule {sorted(rule.allow)}:\n" + "\n".join(wrong)


def test_websocket_rule(world: tuple[Api, dict[str, Any]]) -> None:
    """Anonymous boards and the hall's own tokens may watch; a token of another hall or a bad one may not."""
    from websockets.exceptions import ConnectionClosed
    from websockets.sync.client import connect

    api, _ = world
    base = f"{api.server.ws_url}/ws/halls/t1/events"

    def first(url: str) -> str:
        start = time.monotonic()
        try:
            with connect(url, open_timeout=10) as ws:
                msg = ws.recv(timeout=10)
                return "open:" + str(json.loads(msg).get("type"))
        except ConnectionClosed as exc:
            return f"closed:{exc.rcvd.code if exc.rcvd else None}"
        finally:
            assert time.monotonic() - start < 20

    assert first(base) == "open:snapshot"
    assert first(f"{base}?token={KIOSK}") == "open:snapshot"
    assert first(f"{base}?token={DISPLAY}") == "open:snapshot"
    assert first(f"{base}?token={KIOSK_T2}") == "closed:4403"
    assert first(f"{base}?token=not-a-token") == "closed:4401"
