"""The kiosk's one client of the queue server, for every part (tickets, check-in, appointments, the cases API of
self-submission, case query and pickup, complaints), with one error hierarchy; blocking, so call it from a worker
thread.

Errors: `KioskClientError` ← `Refused` (the server said no: `status`, `sentence`) ← `Final` (for good: a 4xx other
than 408/429) and `AlreadyBooked`; `KioskClientError` ← `Unreachable` (no answer) ← `Transient` (try later: also
5xx/408/429) and `Uncertain`. `citizen_words` turns any of them into what a citizen reads.

The cases API's calls are sent once (`_call`): their callers decide whether to send again — the outbox resends a
`Transient` submission later with the same `submission_id`, which the server turns into the same case, and keeps a
`Final` one aside with the server's sentence. A 413 without the server's sentence comes from a proxy in front of it
(nginx's `client_max_body_size`): final too, with a sentence of our own for the citizen. Uploads get a longer
write timeout than other calls.

`take_number` sends one `Idempotency-Key` per tap and retries connection errors and timeouts with that same
key: when a lost answer had in fact been committed, the retry returns the first ticket (200), never a second.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

import httpx

from .strings import both, t

if TYPE_CHECKING:
    from .feed import QueueFeed
    from .submission.model import Submission


class KioskClientError(Exception):
    """Base of the client's errors."""


class Refused(KioskClientError):
    """The server answered no (4xx/5xx); `sentence` is its own `detail` for the citizen."""

    def __init__(self, status: int, sentence: str) -> None:
        """Keep the status and the server's sentence."""
        super().__init__(f"{status}: {sentence}")
        self.status, self.sentence = status, sentence


class Unreachable(KioskClientError):
    """No answer after every retry."""


class Final(Refused):
    """The server said no for good (a 4xx other than 408/429): a queued submission is kept aside, never resent."""


class Transient(Unreachable):
    """Worth trying again later: no answer, or the server asked to wait (5xx, 408, 429)."""


class AlreadyBooked(Refused):
    """A booking re-sent after a lost answer found the person booked for that service and day: the lost one."""


class Uncertain(Unreachable):
    """A check-in may or may not have gone through and the kiosk could not find out (ask the desk)."""


# Errors raised before a single byte of the request left the kiosk: safe to retry even a non-idempotent call.
NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
SUFFIX = {"image/jpeg": "jpg", "image/png": "png", "application/pdf": "pdf"}  # a submitted page's file name


class KioskClient:
    """The kiosk's calls, with its device token: tickets, check-in, appointments, queue loads, hours, the cases
    API, complaints, device health."""

    def __init__(
        self,
        server: str,
        hall: str,
        token: str,
        *,
        timeout: float = 5.0,
        attempts: int = 6,
        backoff: float = 0.5,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        """A client of `server` for `hall` with the kiosk's bearer `token`."""
        self.hall, self.attempts, self.backoff = hall, attempts, backoff
        self.server, self._token = server, token
        self._http = httpx.Client(
            base_url=server,
            timeout=timeout,
            headers={"Authorization": f"Bearer {token}"},
            transport=transport,
        )
        self._cases_timeout = httpx.Timeout(2 * timeout, write=max(timeout, 60.0))  # the server stores pages

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    def _send(
        self,
        method: str,
        url: str,
        *,
        on_retry: Callable[[int], None] | None = None,
        retry: type[Exception] | tuple[type[Exception], ...] = httpx.TransportError,
        **kw: Any,
    ) -> httpx.Response:
        """Send, retrying the `retry` errors (by default every transport error: refused connection, timeout) with a
        growing pause; other transport errors propagate."""
        for attempt in range(1, self.attempts + 1):
            try:
                r = self._http.request(method, url, **kw)
            except retry as e:
                if attempt == self.attempts:
                    raise Unreachable(str(e) or type(e).__name__) from e
                if on_retry is not None:
                    on_retry(attempt)
                time.sleep(min(self.backoff * attempt, 3.0))
                continue
            if r.status_code >= 400:
                raise Refused(r.status_code, detail(r, lists=False))
            return r
        raise AssertionError("unreachable")  # pragma: no cover

    def _call(self, method: str, url: str, **kw: Any) -> httpx.Response:
        """One request of the cases API, never retried here; `Transient` or `Final` unless the answer is 2xx."""
        try:
            r = self._http.request(method, url, timeout=self._cases_timeout, **kw)
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

    def take_number(
        self,
        queue: str,
        key: str,
        *,
        id_number: str | None = None,
        phone: str | None = None,
        lang: str | None = None,
        interpreter: str | None = None,
        on_retry: Callable[[int], None] | None = None,
    ) -> dict[str, Any]:
        """Take a number in `queue`; `key` is the tap's idempotency key (the same for every retry); `lang`: the
        kiosk's language, which the ticket keeps (its tracking page, phone messages and printout use it);
        `interpreter`: the language the citizen needs an interpreter in (需要语言服务: the clerk who calls sees it)."""
        body: dict[str, Any] = {"queue": queue, "lane": "normal", "channel": "kiosk"} | _languages(lang, interpreter)
        if id_number:
            body["id_number"] = id_number
        if phone:
            body["phone"] = phone
        r = self._send(
            "POST", f"/api/v1/halls/{self.hall}/tickets", json=body, headers={"Idempotency-Key": key}, on_retry=on_retry
        )
        data: dict[str, Any] = r.json()
        return data

    def check_in(
        self,
        code: str,
        *,
        on_retry: Callable[[int], None] | None = None,
        lang: str | None = None,
        interpreter: str | None = None,
    ) -> dict[str, Any]:
        """Check in the appointment `code`: its ticket (with `note` when late); Refused with the server's sentence.
        `lang` and `interpreter` go on the ticket as `take_number`'s.

        The server's check-in is not idempotent, so only failures before sending are retried; when the answer is
        lost (a timeout, a dropped connection) the appointment is looked up: still booked → the check-in did not
        happen and is sent again; checked in → it did, but its ticket is lost (Uncertain: ask the desk).
        """
        url = f"/api/v1/appointments/{code}/check-in"
        body = _languages(lang, interpreter) or None
        for attempt in range(1, self.attempts + 1):
            try:
                return self._post_once(url, body, on_retry=on_retry)
            except httpx.TransportError as e:
                status = self._appointment_status(code)
                if status != "booked":
                    raise Uncertain(f"check-in of {code}: answer lost, appointment now {status}") from e
                if attempt == self.attempts:
                    raise Unreachable(str(e) or type(e).__name__) from e
                if on_retry is not None:
                    on_retry(attempt)
                time.sleep(min(self.backoff * attempt, 3.0))
        raise AssertionError("unreachable")  # pragma: no cover

    def check_in_by_id(
        self,
        id_number: str,
        *,
        id_type: str | None = None,
        nationality: str | None = None,
        on_retry: Callable[[int], None] | None = None,
        lang: str | None = None,
        interpreter: str | None = None,
    ) -> dict[str, Any]:
        """Check in today's appointment of the person with `id_number` (of document `id_type`, a passport with
        its `nationality`); a lost answer cannot be checked: Uncertain."""
        url = f"/api/v1/halls/{self.hall}/appointments/check-in"
        body: dict[str, Any] = {"id_number": id_number} | _languages(lang, interpreter)
        if id_type is not None:
            body |= {"id_type": id_type, "nationality": nationality}
        try:
            return self._post_once(url, body, on_retry=on_retry)
        except httpx.TransportError as e:
            raise Uncertain(f"check-in by ID card: answer lost ({type(e).__name__})") from e

    def _post_once(
        self, url: str, body: dict[str, Any] | None, *, on_retry: Callable[[int], None] | None
    ) -> dict[str, Any]:
        """POST, retrying only errors that prove the request was never sent; other transport errors propagate."""
        data: dict[str, Any] = self._send("POST", url, json=body, on_retry=on_retry, retry=NOT_SENT).json()
        return data

    def book(
        self,
        queue: str,
        start: datetime,
        *,
        name: str,
        id_number: str,
        phone: str | None,
        key: str | None = None,
        on_retry: Callable[[int], None] | None = None,
        nationality: str = "",
        lang: str | None = None,
    ) -> dict[str, Any]:
        """Book a slot; the appointment (masked) with its `code` and `qr`; Refused with the server's sentence.
        With a `nationality` the number is that country's passport number; `lang`: the kiosk's language, which the
        appointment keeps (its messages, its check-in's ticket).

        With `key` (the tap's Idempotency-Key) every transport error is retried with the same key: a lost answer's
        retry returns the first booking (200), code and all. Without a key only failures before sending are
        retried and a lost answer is sent once more: the server allows one booking per person, service and day, so
        either the first never arrived and this one books, or it did and the server answers 409 — AlreadyBooked.
        """
        url = f"/api/v1/halls/{self.hall}/appointments"
        body = {"queue": queue, "start": start.isoformat(), "name": name, "id_number": id_number, "channel": "kiosk"}
        body |= _languages(lang, None)
        if nationality:
            body |= {"id_type": "passport", "nationality": nationality}
        if phone:
            body["phone"] = phone
        if key:
            data: dict[str, Any] = self._send(
                "POST", url, json=body, headers={"Idempotency-Key": key}, on_retry=on_retry
            ).json()
            return data
        try:
            return self._post_once(url, body, on_retry=on_retry)
        except httpx.TransportError as e:
            if on_retry is not None:
                on_retry(1)
            try:
                return self._post_once(url, body, on_retry=on_retry)
            except Refused as r:
                if r.status == 409 and "already" in r.sentence:
                    raise AlreadyBooked(r.status, r.sentence) from e
                raise
            except httpx.TransportError as e2:
                raise Unreachable(f"booking: answer lost twice ({type(e2).__name__})") from e2

    def slots(self, queue: str, day: date) -> list[dict[str, Any]]:
        """A day's slots of `queue` with capacity and bookings."""
        params = {"queue": queue, "date": day.isoformat()}
        data: list[dict[str, Any]] = self._send("GET", f"/api/v1/halls/{self.hall}/slots", params=params).json()
        return data

    def _appointment_status(self, code: str) -> str:
        """The appointment's status now ('booked', 'checked_in', …), or 'unknown' when that cannot be learnt."""
        try:
            r = self._send("GET", f"/api/v1/appointments/{code}")
        except KioskClientError:
            return "unknown"
        return str(r.json().get("status") or "unknown")

    def queues(self) -> list[dict[str, Any]]:
        """The hall's queues with their waiting counts and estimated waits."""
        data: list[dict[str, Any]] = self._send("GET", f"/api/v1/halls/{self.hall}/queues").json()
        return data

    def hall_info(self) -> dict[str, Any]:
        """The hall's entry of GET /api/v1/halls: names, `open_now`, `next_open`, `booking_queues` ({} if absent)."""
        for h in self._send("GET", "/api/v1/halls").json():
            if h.get("code") == self.hall:
                return dict(h)
        return {}

    def queue_feed(self, on_queues: Callable[[list[dict[str, Any]]], None]) -> QueueFeed:
        """The hall's queue loads live from its event stream (`kiosk.feed`; call `start()` on it)."""
        from .feed import QueueFeed

        return QueueFeed(self.server, self.hall, self._token, on_queues)

    def ping(self, timeout: float = 2.0) -> bool:
        """Whether the server answers its liveness check now (one try, no retries: for the health banner)."""
        try:
            return self._http.get("/healthz", timeout=timeout).status_code == 200
        except httpx.HTTPError:
            return False

    def complaint_categories(self) -> list[dict[str, Any]]:
        """The server's complaint categories: [{"code", "zh", "en"}] (the 投诉建议 part)."""
        data = self._send("GET", "/api/v1/feedback/catalogue").json()
        return [dict(c) for c in data.get("complaint_categories") or []]

    def file_complaint(
        self,
        *,
        category: str,
        content: str,
        phone: str,
        key: str,
        on_retry: Callable[[int], None] | None = None,
    ) -> dict[str, Any]:
        """File a complaint as this kiosk; `key` is the tap's Idempotency-Key, so a retry after a lost answer gets
        the first complaint back (200) instead of filing a second. Returns {"code", "status", "deadline", …}."""
        body: dict[str, Any] = {"category": category, "content": content}
        if phone:
            body["phone"] = phone
        url = f"/api/v1/halls/{self.hall}/complaints"
        data: dict[str, Any] = self._send(
            "POST", url, json=body, headers={"Idempotency-Key": key}, on_retry=on_retry
        ).json()
        return data

    # --- the cases API: self-submission, case query, pickup (each sent once: see the module doc) ------------

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

    def lookup(
        self, id_number: str, *, id_type: str | None = None, nationality: str | None = None
    ) -> list[dict[str, Any]]:
        """The person's cases in this hall (after reading the ID card, or a passport: `id_type` "passport" with its
        `nationality`)."""
        body: dict[str, Any] = {"id_number": id_number}
        if id_type is not None:
            body |= {"id_type": id_type, "nationality": nationality or None}
        r = self._call("POST", f"/api/v1/halls/{self.hall}/cases/lookup", json=body)
        return list(r.json())

    def pickup(self, code: str) -> dict[str, Any]:
        """Hand a result over with its pickup code (single use)."""
        return dict(self._call("POST", f"/api/v1/halls/{self.hall}/pickup", json={"code": code}).json())

    def pickup_ticket(self, number: str) -> dict[str, Any]:
        """A ticket of the output queue for a ready result."""
        return dict(self._call("POST", f"/api/v1/cases/{number}/pickup-ticket").json())

    def report_health(self, status: str, detail: str = "") -> None:
        """Tell the server (and through it the staff) how the kiosk's devices are (detail ≤ 200 characters,
        nothing personal)."""
        self._send("POST", "/api/v1/devices/health", json={"status": status, "detail": detail[:200]})


def _languages(lang: str | None, interpreter: str | None) -> dict[str, str]:
    """The `lang` and `interpreter` a number or a check-in carries (only those given)."""
    return {k: v for k, v in (("lang", lang), ("interpreter", interpreter)) if v}


def citizen_words(e: KioskClientError, lang: str) -> str:
    """What the citizen reads about a failed call, in one place: the server's own sentence when it said no
    (it speaks to citizens; a proxy's bare 413 becomes "too large"), else that the connection is down — never a
    technical word (服务器, HTTP, a status)."""
    if isinstance(e, Refused) and e.status == 413 and e.sentence == "HTTP 413":
        return t("too_large", lang)
    if isinstance(e, Refused) and e.sentence and not e.sentence.startswith("HTTP "):
        return e.sentence
    return t("connection_down", lang)


def detail(r: httpx.Response, *, lists: bool = True) -> str:
    """The server's sentence from an error answer (a validation list is joined: the cases API's answers)."""
    try:
        d = r.json().get("detail")
    except ValueError:
        d = None
    if isinstance(d, str) and d:
        return d
    if lists and isinstance(d, list) and d:
        return "; ".join(str(x.get("msg", x)) if isinstance(x, dict) else str(x) for x in d)[:300]
    return f"HTTP {r.status_code}"
