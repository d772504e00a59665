"""Helpers of the feedback tests: serve a ticket to completion, evaluate it."""

from __future__ import annotations

from typing import Any

import httpx

from ..harness import Api

PAD = "pad-t1-w1-token-0123456789"


def served(api: Api, window: int = 1, queue: str = "A", who: str = "clerk1", **take: Any) -> dict[str, Any]:
    """Take a number, call it at the window and complete it; returns the ticket as issued."""
    t = api.take(queue, **take)
    r = api.call_next(window, who=who)
    assert r.status_code == 200 and r.json()["id"] == t["id"], r.text
    assert api.act(t["id"], "complete", who=who).status_code == 200
    return t


def evaluate(api: Api, who: str | None = PAD, hall: str = "t1", **body: Any) -> httpx.Response:
    """POST an evaluation as a device (token) or anonymously (who=None)."""
    headers = {"Authorization": f"Bearer {who}"} if who else {}
    return api.http.post(f"/api/v1/halls/{hall}/evaluations", json=body, headers=headers)
