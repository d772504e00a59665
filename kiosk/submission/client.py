"""A small blocking HTTP client of the cases API for the kiosk (call it from worker threads, never the UI).

`submit` sends one submission once; the caller (the outbox) decides when to send again. Its errors say what
the outbox must do: `Transient` (no answer, 5xx, 408, 429: keep it and resend later, with the same
`submission_id`, which the server turns into the same case) or `Final` (any other 4xx: the server will never
take it; keep it aside with the server's sentence). A 413 without the server's sentence comes from a proxy in
front of it (nginx's `client_max_body_size`): it is final too, with a sentence of our own for the citizen.
"""

from __future__ import annotations

import json
from typing import Any

import httpx

from kiosk.client import Final, KioskClientError, Transient
from kiosk.strings import both

from .model import Submission

CasesClientError = KioskClientError  # the kiosk client's one hierarchy (kiosk.client)

SUFFIX = {"image/jpeg": "jpg", "image/png": "png", "application/pdf": "pdf"}


class CasesClient:
    """The kiosk's calls of the cases API, with the kiosk's device token."""

    def __init__(
        self,
        server: str,
        hall: str,
        token: str,
        *,
        timeout: float = 10.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        """A client of `server` for `hall`; uploads get a longer write timeout than other calls."""
        self.hall = hall
        self._http = httpx.Client(
            base_url=server,
            timeout=httpx.Timeout(timeout, write=max(timeout, 60.0)),
            headers={"Authorization": f"Bearer {token}"},
            transport=transport,
        )

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    def _call(self, method: str, url: str, **kw: Any) -> httpx.Response:
        """One request; Transient or Final unless the answer is 2xx."""
        try:
            r = self._http.request(method, url, **kw)
        except httpx.HTTPError as e:
            raise Transient(type(e).__name__) from e
        if r.is_success:
            return r
        if r.status_code >= 500 or r.status_code in (408, 429):
            raise Transient(f"HTTP {r.status_code}")
        sentence = detail(r)
        if r.status_code == 413 and sentence == "HTTP 413":  # a proxy's page (nginx), not the server's sentence
            sentence = both("too_large")
        raise Final(r.status_code, sentence)

    def domains(self) -> list[dict[str, Any]]:
        """GET /items/domains."""
        return list(self._call("GET", "/api/v1/items/domains").json())

    def items(self, *, domain: str | None = None, q: str | None = None) -> list[dict[str, Any]]:
        """GET /items?domain=&q=."""
        params = {k: v for k, v in (("domain", domain), ("q", q)) if v}
        return list(self._call("GET", "/api/v1/items", params=params).json())

    def item(self, code: str) -> dict[str, Any]:
        """GET /items/{code}: the zero-basis template."""
        return dict(self._call("GET", f"/api/v1/items/{code}").json())

    def chains(self) -> list[dict[str, Any]]:
        """GET /chains: the 一件事 bundles."""
        return list(self._call("GET", "/api/v1/chains").json())

    def chain(self, code: str) -> dict[str, Any]:
        """GET /chains/{code}: the chain's one form and one material list."""
        return dict(self._call("GET", f"/api/v1/chains/{code}").json())

    def submit(self, sub: Submission) -> dict[str, Any]:
        """POST the submission (multipart); the case (201 new, 200 the same case again)."""
        files = [
            (
                f"file.{p.material}",
                (f"{p.material}-{i + 1}.{SUFFIX.get(p.content_type, 'bin')}", p.data, p.content_type),
            )
            for i, p in enumerate(sub.pages)
        ]
        data = {"data": json.dumps(sub.data(), ensure_ascii=False)}
        what = "chains" if sub.chain else "cases"
        r = self._call("POST", f"/api/v1/halls/{self.hall}/{what}", data=data, files=files or None)
        return dict(r.json())

    def receipt_pdf(self, number: str, proof: str) -> bytes:
        """The 自助申报回执 PDF."""
        return self._call("GET", f"/api/v1/cases/{number}/receipt.pdf", params={"proof": proof}).content

    def status(self, number: str, proof: str) -> dict[str, Any]:
        """A case's public view by number and proof."""
        return dict(self._call("GET", f"/api/v1/cases/{number}/status", params={"proof": proof}).json())

    def lookup(self, id_number: str) -> list[dict[str, Any]]:
        """The person's cases in this hall (after reading the ID card)."""
        r = self._call("POST", f"/api/v1/halls/{self.hall}/cases/lookup", json={"id_number": id_number})
        return list(r.json())

    def pickup(self, code: str) -> dict[str, Any]:
        """Hand a result over with its pickup code (single use)."""
        return dict(self._call("POST", f"/api/v1/halls/{self.hall}/pickup", json={"code": code}).json())

    def pickup_ticket(self, number: str) -> dict[str, Any]:
        """A ticket of the output queue for a ready result."""
        return dict(self._call("POST", f"/api/v1/cases/{number}/pickup-ticket").json())

    def report_health(self, status: str, detail: str = "") -> None:
        """Tell staff through the device's health (detail ≤ 200 characters, nothing personal)."""
        self._call("POST", "/api/v1/devices/health", json={"status": status, "detail": detail[:200]})


def detail(r: httpx.Response) -> str:
    """The server's sentence from an error answer (a validation list is joined)."""
    try:
        d = r.json().get("detail")
    except ValueError:
        d = None
    if isinstance(d, str) and d:
        return d
    if isinstance(d, list) and d:
        return "; ".join(str(x.get("msg", x)) if isinstance(x, dict) else str(x) for x in d)[:300]
    return f"HTTP {r.status_code}"
