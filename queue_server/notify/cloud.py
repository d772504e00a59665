"""Template providers: Alibaba Cloud SMS, Tencent Cloud SMS and WeChat subscription messages.

These services send only templates they approved (短信模板, 订阅消息模板), never our text: each kind of
message names its template and fills the template's variables with the message's values
(`[notify.templates.<kind>]`, `messages.PARAMS`). A kind without a template fails like any refused send,
so the outbox's retries and dead letter apply unchanged and staff see it.

Each provider goes through the service's official SDK (it signs the request as the service documents:
Alibaba's ACS3-HMAC-SHA256, Tencent's TC3-HMAC-SHA256, WeChat's access_token), so no signature is written
by hand here. `url` in `[notify]` points a provider at another address (a private endpoint, a test).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import orjson

from ..config import NotifyConfig, TemplateConfig
from .providers import DeliveryError, OutgoingMessage, Provider

__all__ = ["AliyunSmsProvider", "TencentSmsProvider", "WeChatSubscribeProvider", "make_cloud_provider"]

T = TypeVar("T")
ALIYUN_ENDPOINT = "dysmsapi.aliyuncs.com"
TENCENT_ENDPOINT = "sms.tencentcloudapi.com"
WECHAT_BASE = "https://api.weixin.qq.com/"


def template_of(config: NotifyConfig, msg: OutgoingMessage) -> tuple[TemplateConfig, list[tuple[str, str]]]:
    """The kind's template and its variables filled in order; DeliveryError when either is missing."""
    t = config.templates.get(msg.kind)
    if t is None:
        raise DeliveryError(f"no template for '{msg.kind}' messages in [notify.templates]")
    missing = [name for name in t.params.values() if name not in msg.params]
    if missing:
        raise DeliveryError(f"the '{msg.kind}' message has no value for {', '.join(missing)}")
    return t, [(var, msg.params[name]) for var, name in t.params.items()]


def _split_url(url: str) -> tuple[str, str]:
    """(scheme, host[:port]) of "http(s)://host[:port][/…]"."""
    scheme, _, rest = url.partition("://")
    return scheme, rest.split("/", 1)[0]


def _secret(config: NotifyConfig) -> str:
    return config.secret.get_secret_value() if config.secret is not None else ""


def _reason(exc: BaseException) -> str:
    """A library error as a short reason (the dispatcher masks a phone number that might be in it)."""
    return f"{type(exc).__name__}: {exc}"[:200]


async def _guarded(call: Awaitable[T], timeout_s: float, explain: Callable[[Exception], str | None]) -> T:
    """Await an SDK call within `timeout_s`; its errors become DeliveryError with `explain`'s reason (the
    library's own exceptions: an error `explain` does not know, None, is a bug and goes up as it is)."""
    try:
        async with asyncio.timeout(timeout_s):
            return await call
    except TimeoutError:
        raise DeliveryError(f"no answer within {timeout_s:g} s") from None
    except DeliveryError:
        raise
    except Exception as exc:
        reason = explain(exc)
        if reason is None:
            raise
        raise DeliveryError(reason[:200]) from None


class AliyunSmsProvider:
    """Alibaba Cloud SMS (dysmsapi 2017-05-25 SendSms) through `alibabacloud-dysmsapi20170525`.

    PhoneNumbers is the mainland number; TemplateParam the JSON object of the template's variables; OutId
    the message id (a repeat after a crash carries the same one, for the delivery report)."""

    def __init__(self, config: NotifyConfig) -> None:
        from alibabacloud_dysmsapi20170525.client import Client
        from alibabacloud_tea_openapi import utils_models
        from darabonba.runtime import RuntimeOptions

        scheme, host = _split_url(config.url) if config.url else ("https", ALIYUN_ENDPOINT)
        sdk_config = utils_models.Config(
            access_key_id=config.key_id, access_key_secret=_secret(config), endpoint=host, protocol=scheme
        )
        self.config = config
        self._client = Client(sdk_config)
        ms = int(config.timeout_s * 1000)
        self._runtime = RuntimeOptions(autoretry=False, max_attempts=1, read_timeout=ms, connect_timeout=ms)

    def __repr__(self) -> str:
        return f"AliyunSmsProvider(key_id={self.config.key_id!r}, secret=<hidden>)"

    async def send(self, msg: OutgoingMessage) -> None:
        """SendSms; DeliveryError unless the answer's Code is "OK"."""
        from alibabacloud_dysmsapi20170525 import models

        t, values = template_of(self.config, msg)
        request = models.SendSmsRequest(
            phone_numbers=msg.phone.removeprefix("+86"),
            sign_name=self.config.sign_name,
            template_code=t.code,
            template_param=orjson.dumps(dict(values)).decode(),
            out_id=msg.msg_id,
        )
        # The SDK's own errors and its HTTP library's (aiohttp): each one refused send.
        call = self._client.send_sms_with_options_async(request, self._runtime)
        response = await _guarded(call, self.config.timeout_s, _reason)
        body = response.body
        if body is None or body.code != "OK":
            code, message = (body.code, body.message) if body is not None else ("", "no body")
            raise DeliveryError(f"Alibaba Cloud SMS {code}: {message}"[:200])

    async def aclose(self) -> None:
        """Nothing to release (the SDK opens a session per call)."""


class TencentSmsProvider:
    """Tencent Cloud SMS (sms 2021-01-11 SendSms) through `tencentcloud-sdk-python-sms`.

    PhoneNumberSet holds the number in E.164 (+86…); TemplateParamSet the values in the template's order
    ({1}, {2} …); SessionContext the message id. The SDK is synchronous: it runs in a worker thread."""

    def __init__(self, config: NotifyConfig) -> None:
        from tencentcloud.common import credential
        from tencentcloud.common.profile.client_profile import ClientProfile
        from tencentcloud.common.profile.http_profile import HttpProfile
        from tencentcloud.sms.v20210111 import sms_client

        scheme, host = _split_url(config.url) if config.url else ("https", TENCENT_ENDPOINT)
        http = HttpProfile(protocol=scheme, endpoint=host, reqTimeout=max(1, round(config.timeout_s)))
        profile = ClientProfile(httpProfile=http)  # TC3-HMAC-SHA256 is the profile's default
        self.config = config
        self._client = sms_client.SmsClient(
            credential.Credential(config.key_id, _secret(config)), config.region, profile
        )

    def __repr__(self) -> str:
        return f"TencentSmsProvider(key_id={self.config.key_id!r}, secret=<hidden>)"

    def _send(self, msg: OutgoingMessage) -> Any:
        from tencentcloud.sms.v20210111 import models

        t, values = template_of(self.config, msg)
        request = models.SendSmsRequest()
        request.PhoneNumberSet = [msg.phone if msg.phone.startswith("+") else "+86" + msg.phone]
        request.SmsSdkAppId = self.config.sdk_app_id
        request.SignName = self.config.sign_name
        request.TemplateId = t.code
        request.TemplateParamSet = [v for _, v in values]
        request.SessionContext = msg.msg_id
        return self._client.SendSms(request)

    async def send(self, msg: OutgoingMessage) -> None:
        """SendSms; DeliveryError unless the number's SendStatus Code is "Ok"."""
        from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException

        def explain(exc: Exception) -> str | None:  # network errors arrive as ClientNetworkError
            if isinstance(exc, TencentCloudSDKException):
                return f"Tencent Cloud SMS {exc.get_code()}: {exc.get_message()}"
            return None

        # the SDK's own timeout comes first
        response = await _guarded(asyncio.to_thread(self._send, msg), self.config.timeout_s + 1, explain)
        statuses = response.SendStatusSet or []
        if len(statuses) != 1 or statuses[0].Code != "Ok":
            code, message = (statuses[0].Code, statuses[0].Message) if statuses else ("", "no status")
            raise DeliveryError(f"Tencent Cloud SMS {code}: {message}"[:200])

    async def aclose(self) -> None:
        """Nothing to release."""


class WeChatSubscribeProvider:
    """WeChat subscription messages (小程序订阅消息, subscribeMessage.send) through `wechatpy`.

    The recipient is the citizen's openid: the message's `phone` field carries it for this provider — for a
    mini program the openid its tickets carry; for an official account (`wechat_account = "official_account"`,
    its subscription notices through message/subscribe/bizsend) the openid bound on the tracking page
    (`wechat_bind.py`). `data` maps each template key (thing1,
    character_string2 …) to {"value": …}. wechatpy fetches and caches the access_token (appid + AppSecret)
    and is synchronous: it runs in a worker thread."""

    def __init__(self, config: NotifyConfig) -> None:
        from wechatpy import WeChatClient
        from wechatpy.session.memorystorage import MemoryStorage

        base = (config.url or WECHAT_BASE).rstrip("/") + "/"

        class Client(WeChatClient):
            """wechatpy's client with every address under `base` (its token URL is written in full)."""

            API_BASE_URL = base + "cgi-bin/"

            def fetch_access_token(self) -> Any:
                params = {"grant_type": "client_credential", "appid": self.appid, "secret": self.secret}
                return self._fetch_access_token(url=base + "cgi-bin/token", params=params)

        self.config = config
        self._client = Client(config.key_id, _secret(config), session=MemoryStorage(), timeout=config.timeout_s)
        self._client.wxa.API_BASE_URL = base

    def __repr__(self) -> str:
        return f"WeChatSubscribeProvider(appid={self.config.key_id!r}, secret=<hidden>)"

    def _send(self, msg: OutgoingMessage) -> Any:
        t, values = template_of(self.config, msg)
        data = {key: {"value": value} for key, value in values}
        if self.config.wechat_account == "official_account":  # 订阅通知: message/subscribe/bizsend
            return self._client.message.send_subscribe_message(msg.phone, t.code, data, page=t.page)
        return self._client.wxa.send_subscribe_message(msg.phone, t.code, data, page=t.page)

    async def send(self, msg: OutgoingMessage) -> None:
        """subscribeMessage.send; DeliveryError on an errcode other than 0 or a transport error."""
        from requests import RequestException
        from wechatpy.exceptions import WeChatException

        def explain(exc: Exception) -> str | None:
            if isinstance(exc, WeChatException):
                return f"WeChat {exc.errcode}: {exc.errmsg}"
            return _reason(exc) if isinstance(exc, RequestException) else None

        # the token and the send
        await _guarded(asyncio.to_thread(self._send, msg), 2 * self.config.timeout_s + 1, explain)

    async def aclose(self) -> None:
        """Nothing to release."""


def make_cloud_provider(config: NotifyConfig) -> Provider:
    """The template provider `[notify] provider` names."""
    if config.provider == "aliyun":
        return AliyunSmsProvider(config)
    if config.provider == "tencent":
        return TencentSmsProvider(config)
    return WeChatSubscribeProvider(config)
