"""The tracking page behind the shipped nginx (deploy/nginx/hall.conf, HTTPS): the answer's track_url names the
scheme the phone used, the page and the ticket's websocket pass the proxy, and the access log keeps no token."""

from __future__ import annotations

import asyncio
import json
import ssl
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
from websockets.asyncio.client import connect

from queue_server.api.headers import PAGE_CSP

from ..conftest import sqlite_only
from ..harness import KIOSK, Api
from ..test_deploy import nginx_in_front  # noqa: F401  (the fixture: nginx with the shipped config)


@sqlite_only
def test_the_tracking_page_and_its_stream_through_nginx(
    api: Api,
    nginx_in_front: int,  # noqa: F811
    tmp_path: Path,
) -> None:
    base = f"https://127.0.0.1:{nginx_in_front}"
    tls = ssl.create_default_context()
    tls.check_hostname, tls.verify_mode = False, ssl.CERT_NONE
    with httpx.Client(base_url=base, verify=False, timeout=30) as http:
        r = http.post("/api/v1/halls/t1/tickets", json={"queue": "A"}, headers=api.auth(KIOSK))
        assert r.status_code == 201, r.text
        t = r.json()
        url = urlsplit(t["track_url"])
        # no public_url: the address the phone used and the scheme nginx forwarded (not the upstream's name;
        # nginx's $host has no port: a real hall listens on 443, or sets public_url)
        assert (url.scheme, url.hostname, url.path) == ("https", "127.0.0.1", f"/track/{t['track_token']}")
        page = http.get(url.path)
        assert page.status_code == 200 and page.headers["content-security-policy"] == PAGE_CSP
        assert http.get("/static/track/track.js").status_code == 200

    async def follow() -> dict[str, Any]:
        async with connect(f"wss://127.0.0.1:{nginx_in_front}/ws/track/{t['track_token']}", ssl=tls, proxy=None) as ws:
            first = json.loads(await asyncio.wait_for(ws.recv(), 10))
            assert first["type"] == "snapshot" and first["data"]["status"] == "waiting"
            assert api.call_next(1).json()["id"] == t["id"]
            while True:
                msg = json.loads(await asyncio.wait_for(ws.recv(), 10))
                if msg["type"] == "snapshot" and msg["data"]["status"] == "called":
                    return dict(msg["data"])

    assert asyncio.run(follow())["window"] == 1
    time.sleep(0.2)  # nginx writes the websocket's line when it closes
    log = (tmp_path / "access.log").read_text()
    assert "GET /track/*** " in log and "GET /ws/track/*** " in log, log
    assert t["track_token"] not in log, "a tracking token in the access log"
