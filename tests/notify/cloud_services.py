"""Loopback stand-ins of Alibaba Cloud SMS, Tencent Cloud SMS and WeChat's subscribeMessage.send: real HTTP
servers that check each request the way the service documents it and answer as the service does.

The checks are written from the services' documentation, not from the SDKs:
- Alibaba Cloud, "V3 版本请求体&签名机制" (ACS3-HMAC-SHA256): canonical request of method, path, sorted
  RFC 3986-encoded query, the signed headers (host, x-acs-*) and the payload's SHA-256; string to sign
  "ACS3-HMAC-SHA256\\n" + hex SHA-256 of it; HMAC-SHA256 with the AccessKey secret. SendSms's answer
  {"Code": "OK", "Message": "OK", "BizId", "RequestId"}.
- Tencent Cloud, "签名方法 v3" (TC3-HMAC-SHA256): canonical request of method, "/", "", the lower-cased
  signed headers, their names and the payload's SHA-256; string to sign with the timestamp and the scope
  date/sms/tc3_request; the key derived "TC3"+SecretKey → date → "sms" → "tc3_request". SendSms's answer
  {"Response": {"SendStatusSet": [{"Code": "Ok", …}], "RequestId"}}.
- WeChat, "获取接口调用凭据" (GET /cgi-bin/token with appid and secret) and "发送订阅消息" (POST
  /cgi-bin/message/subscribe/send?access_token=…, JSON touser, template_id, page, data {key: {"value"}};
  thing ≤ 20 characters, character_string ≤ 32 of [0-9A-Za-z_-], number digits); errcode 0 is success.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit

from ..harness import free_port
from .conftest import QuietHandler, listen, shut

KEY_ID, KEY_SECRET = "LTAI5tTestKeyId0123", "test-access-key-secret-0123456789"
SIGN_NAME = "威海政务"
TENCENT_APP_ID = "1400123456"
WECHAT_APPID, WECHAT_SECRET, WECHAT_TOKEN = "wx0123456789abcdef", "wechat-app-secret-0123456789abcd", "ACCESS_TOKEN_1"


@dataclass
class Request:
    """One request as the service got it, with what the service's check found."""

    method: str
    path: str
    query: list[tuple[str, str]]
    headers: dict[str, str]  # names lower-cased
    body: bytes
    errors: list[str] = field(default_factory=list)

    @property
    def json(self) -> Any:
        return json.loads(self.body)


Check = Callable[[Request], tuple[int, dict[str, Any]]]


@dataclass
class CloudService:
    """A loopback HTTP server: `check` validates each request (appending to its `errors`) and answers."""

    check: Check
    port: int = field(default_factory=free_port)
    requests: list[Request] = field(default_factory=list)
    fail_first: int = 0  # answer this many requests with the service's error (after checking them)
    _server: ThreadingHTTPServer | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> CloudService:
        service = self

        class Handler(QuietHandler):
            protocol_version = "HTTP/1.1"

            def _handle(self) -> None:
                parts = urlsplit(self.path)
                body = self.rfile.read(int(self.headers.get("Content-Length", "0") or 0))
                req = Request(
                    self.command,
                    parts.path,
                    parse_qsl(parts.query, keep_blank_values=True),
                    {k.lower(): v for k, v in self.headers.items()},
                    body,
                )
                status, answer = service.check(req)
                with service._lock:
                    service.requests.append(req)
                    failing = service.fail_first > 0 and not req.path.endswith("/token")
                    if failing:
                        service.fail_first -= 1
                if failing:
                    status, answer = service_error(req)
                data = json.dumps(answer).encode()
                with contextlib.suppress(OSError):
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json;charset=utf-8")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)

            do_GET = do_POST = _handle  # http.server's names

        self._server = listen(self.port, Handler)
        return self

    def stop(self) -> None:
        shut(self._server)
        self._server = None

    def sends(self) -> list[Request]:
        """The message sends received (not WeChat's token or OAuth requests)."""
        with self._lock:
            return [r for r in self.requests if not r.path.endswith(("/token", "/access_token"))]


def service_error(req: Request) -> tuple[int, dict[str, Any]]:
    """The service's answer to a send it refuses (rate limited)."""
    if req.path.startswith("/cgi-bin/"):
        return 200, {"errcode": 45009, "errmsg": "reach max api daily quota limit"}
    if "x-tc-action" in req.headers:
        status = {"Code": "LimitExceeded.PhoneNumberDailyLimit", "Message": "daily limit", "SerialNo": ""}
        return 200, {"Response": {"SendStatusSet": [status], "RequestId": "req-limit"}}
    return 200, {"Code": "isv.BUSINESS_LIMIT_CONTROL", "Message": "触发分钟级流控", "RequestId": "req-limit"}


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _hmac(key: bytes, msg: str) -> bytes:
    return hmac.new(key, msg.encode(), hashlib.sha256).digest()


def aliyun_check(req: Request) -> tuple[int, dict[str, Any]]:
    """Alibaba Cloud SendSms with an ACS3-HMAC-SHA256 signature."""
    h, errors = req.headers, req.errors
    m = re.fullmatch(
        r"ACS3-HMAC-SHA256 Credential=([^,]+),SignedHeaders=([^,]+),Signature=([0-9a-f]{64})",
        h.get("authorization", ""),
    )
    if m is None:
        errors.append(f"Authorization: {h.get('authorization')!r}")
        return 400, {"Code": "IncompleteSignature", "Message": "no ACS3 authorization", "RequestId": "r"}
    key_id, signed, signature = m.groups()
    names = signed.split(";")
    if key_id != KEY_ID:
        errors.append(f"AccessKey ID {key_id}")
    if names != sorted(names) or not {
        "host",
        "x-acs-action",
        "x-acs-version",
        "x-acs-date",
        "x-acs-content-sha256",
    } <= set(names):
        errors.append(f"SignedHeaders {signed}")
    if h.get("x-acs-content-sha256") != _sha256(req.body):
        errors.append("x-acs-content-sha256 is not the payload's hash")
    query = "&".join(f"{quote(k, safe='-_.~')}={quote(v, safe='-_.~')}" for k, v in sorted(req.query))
    headers = "".join(f"{n}:{h.get(n, '').strip()}\n" for n in names)
    canonical = "\n".join([req.method, req.path, query, headers, signed, h.get("x-acs-content-sha256", "")])
    to_sign = "ACS3-HMAC-SHA256\n" + _sha256(canonical.encode())
    if hmac.new(KEY_SECRET.encode(), to_sign.encode(), hashlib.sha256).hexdigest() != signature:
        errors.append("signature mismatch")
        return 400, {"Code": "SignatureDoesNotMatch", "Message": "signature", "RequestId": "r"}
    if (h.get("x-acs-action"), h.get("x-acs-version"), req.method) != ("SendSms", "2017-05-25", "POST"):
        errors.append(f"action {h.get('x-acs-action')} {h.get('x-acs-version')} {req.method}")
    q = dict(req.query)
    for name in ("PhoneNumbers", "SignName", "TemplateCode", "TemplateParam"):
        if name not in q:
            errors.append(f"no {name}")
    with contextlib.suppress(ValueError):
        json.loads(q.get("TemplateParam", ""))
        return 200, {"Code": "OK", "Message": "OK", "BizId": "900619746936498440^0", "RequestId": "F655A8D5"}
    errors.append("TemplateParam is not JSON")
    return 400, {"Code": "isv.INVALID_JSON_PARAM", "Message": "JSON", "RequestId": "r"}


def tencent_check(req: Request) -> tuple[int, dict[str, Any]]:
    """Tencent Cloud SendSms with a TC3-HMAC-SHA256 signature."""
    h, errors = req.headers, req.errors
    m = re.fullmatch(
        r"TC3-HMAC-SHA256 Credential=([^/]+)/(\d{4}-\d{2}-\d{2})/sms/tc3_request, "
        r"SignedHeaders=([^,]+), Signature=([0-9a-f]{64})",
        h.get("authorization", ""),
    )
    if m is None:
        errors.append(f"Authorization: {h.get('authorization')!r}")
        return 200, {
            "Response": {"Error": {"Code": "AuthFailure.SignatureFailure", "Message": "no TC3"}, "RequestId": "r"}
        }
    secret_id, day, signed, signature = m.groups()
    timestamp = h.get("x-tc-timestamp", "0")
    if secret_id != KEY_ID:
        errors.append(f"SecretId {secret_id}")
    if day != datetime.fromtimestamp(int(timestamp), UTC).strftime("%Y-%m-%d"):
        errors.append("the credential's date is not the timestamp's UTC date")
    names = signed.split(";")
    headers = "".join(f"{n}:{h.get(n, '').strip().lower()}\n" for n in names)
    canonical = "\n".join([req.method, "/", "", headers, signed, _sha256(req.body)])
    to_sign = f"TC3-HMAC-SHA256\n{timestamp}\n{day}/sms/tc3_request\n{_sha256(canonical.encode())}"
    key = _hmac(_hmac(_hmac(("TC3" + KEY_SECRET).encode(), day), "sms"), "tc3_request")
    if hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest() != signature or "host" not in names:
        errors.append("signature mismatch")
        return 200, {
            "Response": {"Error": {"Code": "AuthFailure.SignatureFailure", "Message": "sig"}, "RequestId": "r"}
        }
    if (h.get("x-tc-action"), h.get("x-tc-version")) != ("SendSms", "2021-01-11"):
        errors.append(f"action {h.get('x-tc-action')} {h.get('x-tc-version')}")
    body = req.json
    phones = body.get("PhoneNumberSet", [])
    status = [
        {
            "SerialNo": "2640:0000000000",
            "PhoneNumber": p,
            "Fee": 1,
            "SessionContext": body.get("SessionContext", ""),
            "Code": "Ok",
            "Message": "send success",
            "IsoCode": "CN",
        }
        for p in phones
    ]
    return 200, {"Response": {"SendStatusSet": status, "RequestId": "a0aabda6-cf91-4f3e-a2cd-a30c6ab5e3d2"}}


# a mini program's subscribeMessage.send; an official account's subscription notice (订阅通知 bizsend)
SEND_PATHS = ("/cgi-bin/message/subscribe/send", "/cgi-bin/message/subscribe/bizsend")


def wechat_oauth_check(codes: dict[str, str]) -> Check:
    """WeChat with web OAuth besides: "通过 code 换取网页授权 access_token" (GET /sns/oauth2/access_token with
    appid, secret, code, grant_type=authorization_code → access_token, expires_in, refresh_token, openid,
    scope), each code of `codes` (code → openid) good once, as WeChat's are; everything else as `wechat_check`."""
    used: set[str] = set()
    lock = threading.Lock()

    def check(req: Request) -> tuple[int, dict[str, Any]]:
        if req.path != "/sns/oauth2/access_token":
            return wechat_check(req)
        q = dict(req.query)
        if req.method != "GET" or {k: v for k, v in q.items() if k != "code"} != {
            "appid": WECHAT_APPID,
            "secret": WECHAT_SECRET,
            "grant_type": "authorization_code",
        }:
            req.errors.append(f"oauth request {req.method} {sorted(q)}")
            return 200, {"errcode": 40125, "errmsg": "invalid appsecret"}
        code = q.get("code", "")
        with lock:
            fresh = code in codes and code not in used
            used.add(code)
        if not fresh:
            return 200, {"errcode": 40163, "errmsg": "code been used"} if code in codes else {
                "errcode": 40029,
                "errmsg": "invalid code",
            }
        token = {"access_token": "WEB_TOKEN_" + code, "expires_in": 7200, "refresh_token": "REFRESH_" + code}
        return 200, token | {"openid": codes[code], "scope": "snsapi_base"}

    return check


def wechat_check(req: Request) -> tuple[int, dict[str, Any]]:
    """WeChat's token and subscribeMessage.send."""
    q = dict(req.query)
    if req.path == "/cgi-bin/token":
        if req.method != "GET" or q != {
            "grant_type": "client_credential",
            "appid": WECHAT_APPID,
            "secret": WECHAT_SECRET,
        }:
            req.errors.append(f"token request {req.method} {sorted(q)}")
            return 200, {"errcode": 40125, "errmsg": "invalid appsecret"}
        return 200, {"access_token": WECHAT_TOKEN, "expires_in": 7200}
    if req.path not in SEND_PATHS or req.method != "POST":
        req.errors.append(f"unknown API {req.method} {req.path}")
        return 404, {"errcode": -1, "errmsg": "not found"}
    if q.get("access_token") != WECHAT_TOKEN:
        req.errors.append("no valid access_token")
        return 200, {"errcode": 40001, "errmsg": "invalid credential"}
    body = req.json
    for key, item in body.get("data", {}).items():
        value = str(item.get("value", ""))
        kind = re.sub(r"\d+$", "", key)
        ok = {
            "thing": len(value) <= 20,
            "character_string": re.fullmatch(r"[0-9A-Za-z_\-]{1,32}", value) is not None,
            "number": re.fullmatch(r"\d{1,32}(\.\d+)?", value) is not None,
            "time": True,
            "phrase": len(value) <= 5,
        }.get(kind, False)
        if not ok:
            req.errors.append(f"data {key}={value!r} breaks the {kind} rule")
            return 200, {"errcode": 47003, "errmsg": f"argument invalid! data.{key}.value invalid"}
    if not body.get("touser") or not body.get("template_id"):
        req.errors.append("no touser or template_id")
        return 200, {"errcode": 40003, "errmsg": "invalid openid"}
    return 200, {"errcode": 0, "errmsg": "ok", "msgid": 2961237464378556416}
