"""The complaint tile's server calls, through the kiosk's own client (its token, retries and error sentences)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kiosk.client import KioskClient


def categories(client: KioskClient) -> list[dict[str, Any]]:
    """The server's complaint categories: [{"code", "zh", "en"}]."""
    data = client._send("GET", "/api/v1/feedback/catalogue").json()  # the kiosk package's own client
    return [dict(c) for c in data.get("complaint_categories") or []]


def submit(
    client: KioskClient,
    *,
    category: str,
    content: str,
    phone: str,
    key: str,
    on_retry: Callable[[int], None] | None = None,
) -> dict[str, Any]:
    """File the complaint as this kiosk; `key` is the tap's Idempotency-Key, so a retry after a lost answer gets
    the first complaint back (200) instead of filing a second. Returns {"code", "status", "deadline", …}."""
    body: dict[str, Any] = {"category": category, "content": content}
    if phone:
        body["phone"] = phone
    url = f"/api/v1/halls/{client.hall}/complaints"
    r = client._send("POST", url, json=body, headers={"Idempotency-Key": key}, on_retry=on_retry)
    data: dict[str, Any] = r.json()
    return data
