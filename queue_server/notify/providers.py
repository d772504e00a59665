"""Where messages go: a log line (`log`, for demos), a signed webhook to an SMS gateway (`webhook`), or a
registered template of Alibaba Cloud SMS, Tencent Cloud SMS or WeChat subscription messages (cloud.py)."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol

import httpx
import orjson

from ..config import NotifyConfig
from ..ids import mask_phone

__all__ = [
    "SIGNATURE_HEADER",
    "DeliveryError",
    "LogProvider",
    "OutgoingMessage",
    "Provider",
    "WebhookProvider",
    "body_of",
    "make_provider",
    "sign",
]

log = logging.getLogger("queue_server.notify")

SIGNATURE_HEADER = "X-Hall-Signature"


@dataclass(frozen=True, slots=True)
class OutgoingMessage:
    """One message ready to send; `phone`, `ticket` and `text` in full, for the gateway only.

    `shown_ticket` and `shown_text` are what a log may hold (secret values masked; empty: the same)."""

    msg_id: str
    kind: str
    hall: str
    ticket: str
    phone: str
    text: str
    at: datetime
    shown_ticket: str = ""
    shown_text: str = ""
    params: dict[str, str] = field(default_factory=dict)  # the values by name, for template providers

    def __repr__(self) -> str:
        return f"OutgoingMessage(msg_id={self.msg_id!r}, kind={self.kind!r}, phone={mask_phone(self.phone)!r})"


class DeliveryError(Exception):
    """The provider did not take the message; `reason` says why (never with the phone number)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Provider(Protocol):
    """Sends one message; returns when it was accepted, raises DeliveryError otherwise."""

    async def send(self, msg: OutgoingMessage) -> None:
        """Deliver `msg` or raise DeliveryError."""
        ...

    async def aclose(self) -> None:
        """Release connections."""
        ...


class LogProvider:
    """Writes each message as one log line, with the phone number and secret values masked (demo and
    development: a log is read by staff, not by the citizen)."""

    def __init__(self, logger: logging.Logger | None = None) -> None:
        self.log = logger or log

    async def send(self, msg: OutgoingMessage) -> None:
        """Log the message; always succeeds."""
        self.log.info(
            "notify %s [%s] hall=%s ticket=%s to %s: %s",
            msg.msg_id,
            msg.kind,
            msg.hall,
            msg.shown_ticket or msg.ticket,
            mask_phone(msg.phone),
            msg.shown_text or msg.text,
        )

    async def aclose(self) -> None:
        """Nothing to release."""


def body_of(msg: OutgoingMessage) -> bytes:
    """The webhook's JSON body: the same bytes each time the message is sent."""
    at = msg.at.astimezone(UTC).isoformat().replace("+00:00", "Z")
    doc = {
        "id": msg.msg_id,
        "kind": msg.kind,
        "hall": msg.hall,
        "ticket": msg.ticket,
        "phone": msg.phone,
        "text": msg.text,
        "at": at,
    }
    return orjson.dumps(doc)


def sign(secret: str, body: bytes) -> str:
    """The X-Hall-Signature value: "sha256=" + hex HMAC-SHA256 of the exact body bytes."""
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


class WebhookProvider:
    """POSTs each message as signed JSON; a 2xx answer within the timeout means delivered."""

    def __init__(
        self, url: str, secret: str | None, timeout_s: float, *, client: httpx.AsyncClient | None = None
    ) -> None:
        self.url = url
        self._secret = secret
        self.timeout_s = timeout_s
        self._client = client

    def __repr__(self) -> str:
        return f"WebhookProvider(url={self.url!r}, secret=<hidden>)"

    async def send(self, msg: OutgoingMessage) -> None:
        """POST the message; DeliveryError on a non-2xx answer, a transport error or the timeout."""
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=self.timeout_s, follow_redirects=False)
        body = body_of(msg)
        headers = {"Content-Type": "application/json"}
        if self._secret:
            headers[SIGNATURE_HEADER] = sign(self._secret, body)
        try:
            async with asyncio.timeout(self.timeout_s):  # a bound on the whole exchange, not per phase
                response = await self._client.post(self.url, content=body, headers=headers)
        except TimeoutError:
            raise DeliveryError(f"no answer within {self.timeout_s:g} s") from None
        except httpx.HTTPError as exc:
            # The gateway's address may show; the message (and its phone number) never does.
            raise DeliveryError(f"{type(exc).__name__}: {exc}"[:200]) from None
        if not 200 <= response.status_code < 300:
            raise DeliveryError(f"HTTP {response.status_code}")

    async def aclose(self) -> None:
        """Close the HTTP client."""
        if self._client is not None:
            await self._client.aclose()
            self._client = None


def make_provider(config: NotifyConfig) -> Provider:
    """The provider the `[notify]` table names."""
    if config.provider in ("aliyun", "tencent", "wechat"):
        from .cloud import make_cloud_provider  # the SDKs load only when a hall uses them

        return make_cloud_provider(config)
    if config.provider == "webhook":
        assert config.url is not None  # NotifyConfig checks it
        secret = config.secret.get_secret_value() if config.secret is not None else None
        if not secret:
            log.warning("notify: the webhook has no secret; messages go out unsigned (demo mode only)")
        return WebhookProvider(config.url, secret, config.timeout_s)
    return LogProvider()
