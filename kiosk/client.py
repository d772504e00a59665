"""The kiosk's client of the queue server, with the one error hierarchy of every part; blocking, so call it from a
worker thread.

Errors: `KioskClientError` ← `Refused` (the server said no: `status`, `sentence`) ← `Final` (for good: a 4xx other
than 408/429) and `AlreadyBooked`; `KioskClientError` ← `Unreachable` (no answer) ← `Transient` (try later: also
5xx/408/429) and `Uncertain`. `citizen_words` turns any of them into what a citizen reads. The cases API's calls
(self-submission, case query, pickup) are `kiosk.submission.client.CasesClient`, with these errors.

`take_number` sends one `Idempotency-Key` per tap and retries connection errors and timeouts with that same
key: when a lost answer had in fact been committed, the retry returns the first ticket (200), never a second.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

import httpx

from .strings import t

if TYPE_CHECKING:
    from .feed import QueueFeed


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


class KioskClient:
    """The kiosk's calls: take a number, read queue loads, report device health."""

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

    @property
    def token(self) -> str:
        """The kiosk's device token (the parts' own clients send it too)."""
        return self._token

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    def _send(
        self, method: str, url: str, *, on_retry: Callable[[int], None] | None = None, **kw: Any
    ) -> httpx.Response:
        """Send, retrying transport errors (refused connection, timeout) with a growing pause."""
        for attempt in range(1, self.attempts + 1):
            try:
                r = self._http.request(method, url, **kw)
            except httpx.TransportError as e:
                if attempt == self.attempts:
                    raise Unreachable(str(e) or type(e).__name__) from e
                if on_retry is not None:
                    on_retry(attempt)
                time.sleep(min(self.backoff * attempt, 3.0))
                continue
            if r.status_code >= 400:
                raise Refused(r.status_code, _detail(r))
            return r
        raise AssertionError("unreachable")  # pragma: no cover

    def take_number(
        self,
        queue: str,
        key: str,
        *,
        id_number: str | None = None,
        phone: str | None = None,
        on_retry: Callable[[int], None] | None = None,
    ) -> dict[str, Any]:
        """Take a number in `queue`; `key` is the tap's idempotency key (the same for every retry)."""
        body: dict[str, Any] = {"queue": queue, "lane": "normal", "channel": "kiosk"}
        if id_number:
            body["id_number"] = id_number
        if phone:
            body["phone"] = phone
        r = self._send(
            "POST", f"/api/v1/halls/{self.hall}/tickets", json=body, headers={"Idempotency-Key": key}, on_retry=on_retry
        )
        data: dict[str, Any] = r.json()
        return data

    def check_in(self, code: str, *, on_retry: Callable[[int], None] | None = None) -> dict[str, Any]:
        """Check in the appointment `code`: its ticket (with `note` when late); Refused with the server's sentence.

        The server's check-in is not idempotent, so only failures before sending are retried; when the answer is
        lost (a timeout, a dropped connection) the appointment is looked up: still booked → the check-in did not
        happen and is sent again; checked in → it did, but its ticket is lost (Uncertain: ask the desk).
        """
        url = f"/api/v1/appointments/{code}/check-in"
        for attempt in range(1, self.attempts + 1):
            try:
                return self._post_once(url, None, on_retry=on_retry)
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
    ) -> dict[str, Any]:
        """Check in today's appointment of the person with `id_number` (of document `id_type`, a passport with
        its `nationality`); a lost answer cannot be checked: Uncertain."""
        url = f"/api/v1/halls/{self.hall}/appointments/check-in"
        body: dict[str, Any] = {"id_number": id_number}
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
        for attempt in range(1, self.attempts + 1):
            try:
                r = self._http.post(url, json=body)
            except NOT_SENT as e:
                if attempt == self.attempts:
                    raise Unreachable(str(e) or type(e).__name__) from e
                if on_retry is not None:
                    on_retry(attempt)
                time.sleep(min(self.backoff * attempt, 3.0))
                continue
            if r.status_code >= 400:
                raise Refused(r.status_code, _detail(r))
            data: dict[str, Any] = r.json()
            return data
        raise AssertionError("unreachable")  # pragma: no cover

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
    ) -> dict[str, Any]:
        """Book a slot; the appointment (masked) with its `code` and `qr`; Refused with the server's sentence.
        With a `nationality` the number is that country's passport number.

        With `key` (the tap's Idempotency-Key) every transport error is retried with the same key: a lost answer's
        retry returns the first booking (200), code and all. Without a key only failures before sending are
        retried and a lost answer is sent once more: the server allows one booking per person, service and day, so
        either the first never arrived and this one books, or it did and the server answers 409 — AlreadyBooked.
        """
        url = f"/api/v1/halls/{self.hall}/appointments"
        body = {"queue": queue, "start": start.isoformat(), "name": name, "id_number": id_number, "channel": "kiosk"}
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

    def hall_names(self) -> tuple[str, str]:
        """The hall's Chinese and English names."""
        h = self.hall_info()
        return (str(h.get("name") or ""), str(h.get("name_en") or "")) if h else (self.hall, "")

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

    def report_health(self, status: str, detail: str = "") -> None:
        """Tell the server (and through it the staff) how the kiosk's devices are."""
        self._send("POST", "/api/v1/devices/health", json={"status": status, "detail": detail})


def citizen_words(e: KioskClientError, lang: str) -> str:
    """What the citizen reads about a failed call, in one place: the server's own sentence when it said no
    (it speaks to citizens; a proxy's bare 413 becomes "too large"), else that the connection is down — never a
    technical word (服务器, HTTP, a status)."""
    if isinstance(e, Refused) and e.status == 413 and e.sentence == "HTTP 413":
        return t("too_large", lang)
    if isinstance(e, Refused) and e.sentence and not e.sentence.startswith("HTTP "):
        return e.sentence
    return t("connection_down", lang)


def _detail(r: httpx.Response) -> str:
    """The server's sentence from an error answer."""
    try:
        detail = r.json().get("detail")
    except ValueError:
        detail = None
    if isinstance(detail, str) and detail:
        return detail
    return f"HTTP {r.status_code}"
