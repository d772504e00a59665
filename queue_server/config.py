"""Hall configuration: pydantic models of the TOML file, and a loader whose errors name the line to fix."""

from __future__ import annotations

import difflib
import hashlib
import math
import re
import tomllib
import types
import typing
import zoneinfo
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Self, TypeVar

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, model_validator
from pydantic_core import ErrorDetails, InitErrorDetails, PydanticCustomError

from queue_server.calendar import CalendarError, parse_day, parse_rule
from queue_server.languages import BASE, all_names, language_problems, name_problems
from queue_server.policy import LANES
from queue_server.strength import GENERATE_HINT, SECRET_MIN_BITS, TOKEN_MIN_BITS, key_problem, password_problem

Loc = tuple[str | int, ...]
_T = TypeVar("_T")
_M = TypeVar("_M", bound=BaseModel)
_Errors = list[InitErrorDetails]

QUEUE_CODE = r"^[A-Z]{1,2}$"
HALL_CODE = r"^[a-z0-9][a-z0-9-]{0,31}$"
USERNAME = r"^[a-z0-9_.-]{2,64}$"
# Minimum lengths of user passwords and device tokens, outside demo mode and in it.
PASSWORD_MIN, PASSWORD_MIN_DEMO = 12, 6
TOKEN_MIN, TOKEN_MIN_DEMO = 24, 16
SECRET_MIN = 32
# Secrets starting like this are guessable ("demo…" also covers anything copied from the demo's files).
_WEAK_SECRET_STARTS = ("changeme", "change-me", "change_me", "secret", "password", "demo")

_PATTERN_HELP = {
    QUEUE_CODE: "must be 1 or 2 capital letters, like 'A' or 'AB' (it is printed on the ticket)",
    HALL_CODE: "must be up to 32 lowercase letters, digits or '-', starting with a letter or digit",
    USERNAME: "must be 2 to 64 lowercase letters, digits, '_', '.' or '-'",
}


@dataclass(frozen=True)
class ConfigProblem:
    """One thing to fix in the configuration, with its dotted path and (when known) its line."""

    path: str
    message: str
    line: int | None = None


class ConfigError(Exception):
    """The configuration cannot be used; `str()` gives one `FILE:LINE: path: message` line per problem."""

    def __init__(self, problems: list[ConfigProblem], source: str | None = None) -> None:
        self.problems = problems
        self.source = source
        super().__init__("\n".join(self._format(p) for p in problems))

    def _format(self, problem: ConfigProblem) -> str:
        where = ""
        if self.source:
            where = f"{self.source}:{problem.line}: " if problem.line else f"{self.source}: "
        elif problem.line:
            where = f"line {problem.line}: "
        return where + (f"{problem.path}: " if problem.path else "") + problem.message


def format_path(loc: Loc) -> str:
    """Render a validation location as `halls[0].windows[3].queues`."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out


def _err(loc: Loc, message: str) -> InitErrorDetails:
    return InitErrorDetails(type=PydanticCustomError("config", "{m}", {"m": message}), loc=loc, input=None)


def _checked(model: _M, errors: _Errors) -> _M:
    # A ValidationError raised inside a validator keeps its own locations, prefixed by the parent's.
    if errors:
        raise ValidationError.from_exception_data(type(model).__name__, errors)
    return model


def _duplicates(values: list[Any]) -> list[int]:
    return [i for i, value in enumerate(values) if value in values[:i]]


def _repeats(section: str, key: str, values: list[Any], what: str, where: str = "") -> _Errors:
    return [_err((section, i, key), f"{what} {values[i]!r} is used twice{where}") for i in _duplicates(values)]


def _find(items: list[_T], attr: str, value: object) -> _T:
    found = next((item for item in items if getattr(item, attr) == value), None)
    if found is None:
        raise KeyError(value)
    return found


_STRICT = ConfigDict(extra="forbid", frozen=True, strict=True)


class QueueConfig(BaseModel):
    """A queue (service domain) of a hall; its code is also the ticket prefix."""

    model_config = _STRICT
    code: str = Field(pattern=QUEUE_CODE)
    name: str = Field(min_length=1)
    name_en: str = Field(min_length=1)
    # the name in the hall's other languages (queue_server/languages.py): {ko = "…", ja = "…", ru = "…"}
    names: dict[str, str] = Field(default_factory=dict)
    default_service_s: int = Field(default=300, gt=0)
    slot_capacity: int = Field(default=0, ge=0)  # appointments per slot; 0: no appointments
    daily_cap: int = Field(default=0, ge=0)  # tickets a day (放号上限); 0: no cap
    alert_wait_min: int = Field(default=0, ge=0)  # staff alert when the longest wait passes this; 0: off
    alert_length: int = Field(default=0, ge=0)  # staff alert when this many wait; 0: off
    remote_share: float | None = Field(default=None, ge=0, le=1)  # the hall's remote_share, for this queue

    @model_validator(mode="after")
    def _names(self) -> Self:
        return _checked(self, [_err(("names",), p) for p in name_problems(self.names)])


class WindowConfig(BaseModel):
    """A service window and the queues it calls from, in tie-break order."""

    model_config = _STRICT
    number: int = Field(ge=1)
    name: str = "综合窗口"
    name_en: str = "Window"
    names: dict[str, str] = Field(default_factory=dict)  # {ko = "…", ja = "…", ru = "…"}; absent: English
    queues: list[str] = Field(min_length=1)
    strict_order: bool = False
    open: bool = True

    @model_validator(mode="after")
    def _no_repeats(self) -> Self:
        twice = [self.queues[i] for i in _duplicates(self.queues)]
        problems = [_err(("queues",), f"window {self.number} lists queue {q!r} twice") for q in twice]
        return _checked(self, problems + [_err(("names",), p) for p in name_problems(self.names)])


class HallConfig(BaseModel):
    """One service hall: its queues and windows."""

    model_config = _STRICT
    code: str = Field(pattern=HALL_CODE)
    name: str = Field(min_length=1)
    name_en: str = ""
    timezone: str = "Asia/Shanghai"
    # The languages citizens are served in: Chinese, English, then any of "ko", "ja", "ru" (the boards' second
    # line goes round them; each queue then needs its `names` in them)
    languages: list[str] = Field(default_factory=lambda: list(BASE))
    silent: bool = True
    max_priority_streak: int = Field(default=3, ge=1)
    open: list[str] | None = None  # opening rules, e.g. "mon-fri 09:00-12:00"; absent: always open
    holidays: list[str] = Field(default_factory=list)  # closed although the weekday is open
    workdays: list[str] = Field(default_factory=list)  # 调休: open with Monday's hours
    # The State Council's holidays and 调休 workdays (queue_server/calendar.py); off: only the hall's own dates
    national_holidays: bool = True
    slot_minutes: int = Field(default=30, ge=5, le=240)
    checkin_early_min: int = Field(default=30, ge=0, le=240)
    checkin_late_min: int = Field(default=15, ge=0, le=240)
    senior_age: int = Field(default=70, ge=0, le=150)  # 0: no automatic senior lane
    notify_ahead: int = Field(default=3, ge=0)  # "N ahead" message at this many; 0: none
    output_queue: str | None = None  # 统一出件: the queue whose tickets collect case results
    case_upload_max_kb: int = Field(default=10240, ge=1, le=102400)  # one uploaded case material, at most
    # 办件编号 prefix: three digits, unique among the halls (checked below); default derived from the code.
    # Digits only, so that a case number can be typed on the kiosk's digit keypad.
    case_prefix: str | None = Field(default=None, pattern=r"^[1-9][0-9]{2}$")
    # 通办取号: the share of a queue's daily_cap that remote tickets may take; the rest is for people in the hall.
    remote_share: float = Field(default=0.5, ge=0, le=1)
    # Where citizens reach this server from outside (their phones): the tracking page's address on every
    # ticket (`track_url`, the QR code) starts with it. Absent: the server's own base URL of the request.
    public_url: str | None = Field(default=None, pattern=r"^https?://[^\s/?#]+(/[^\s?#]*)?$")
    # 过号重排, the rule of the desk's 重新排队 (queue_server/rejoin.py; the tracking page shows it): tickets of
    # these lanes may rejoin ([]: nobody), at most this often (0: no limit), within this many minutes of the
    # missed call (0: the rest of the day), at the back (0) or behind the first N people waiting (顺延N位).
    rejoin_lanes: list[str] = Field(default_factory=lambda: list(LANES))
    rejoin_times: int = Field(default=0, ge=0, le=99)
    rejoin_within_min: int = Field(default=0, ge=0, le=1440)
    rejoin_place: int = Field(default=0, ge=0, le=999)
    queues: list[QueueConfig] = Field(min_length=1)
    windows: list[WindowConfig] = Field(default_factory=list)

    @model_validator(mode="after")
    def _cross_check(self) -> Self:
        codes, where = [q.code for q in self.queues], f" in hall '{self.code}'"
        errors = _repeats("queues", "code", codes, "queue code", where)
        errors += _repeats("windows", "number", [w.number for w in self.windows], "window number", where)
        known = ", ".join(dict.fromkeys(codes))
        for i, window in enumerate(self.windows):
            for code in (c for c in window.queues if c not in codes):
                message = f"window {window.number} names unknown queue '{code}' (this hall has {known})"
                errors.append(_err(("windows", i, "queues"), message))
        for lane in (x for x in self.rejoin_lanes if x not in LANES):
            errors.append(_err(("rejoin_lanes",), f"unknown lane '{lane}' (lanes are {', '.join(LANES)})"))
        errors += [_err(("languages",), p) for p in language_problems(self.languages)]
        for i, q in enumerate(self.queues):
            for lang in (x for x in self.languages if x not in BASE and x not in q.names):
                message = f"queue '{q.code}' has no name in '{lang}', a language of this hall: add names.{lang}"
                errors.append(_err(("queues", i, "names"), message))
        if self.output_queue is not None and self.output_queue not in codes:
            errors.append(_err(("output_queue",), f"unknown queue '{self.output_queue}' (this hall has {known})"))
        for key, values, parse in (
            ("open", self.open or [], parse_rule),
            ("holidays", self.holidays, parse_day),
            ("workdays", self.workdays, parse_day),
        ):
            for i, value in enumerate(values):
                try:
                    parse(value)
                except CalendarError as exc:
                    errors.append(_err((key, i), str(exc)))
        try:
            zoneinfo.ZoneInfo(self.timezone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            message = f"unknown time zone '{self.timezone}' (use a name like 'Asia/Shanghai')"
            errors.append(_err(("timezone",), message))
        return _checked(self, errors)

    @property
    def case_code(self) -> str:
        """The three digits that start this hall's case numbers (`case_prefix`, or derived from the code)."""
        return self.case_prefix or self.derived_case_code(self.code)

    @staticmethod
    def derived_case_code(code: str) -> str:
        """Three digits (100-999) derived from a hall code: the default `case_prefix`."""
        return str(100 + int(hashlib.sha256(code.encode()).hexdigest(), 16) % 900)

    def remote_cap(self, code: str) -> int | None:
        """How many of the queue's tickets a day may be remote (通办取号); None: the queue has no daily cap."""
        q = self.queue(code)
        share = self.remote_share if q.remote_share is None else q.remote_share
        return math.floor(q.daily_cap * share) if q.daily_cap else None

    def queue(self, code: str) -> QueueConfig:
        """Return the queue with this code (KeyError if none)."""
        return _find(self.queues, "code", code)

    def names_of(self, code: str) -> dict[str, str]:
        """The queue's name in each of the hall's languages (English where it has none)."""
        q = self.queue(code)
        return all_names(q.name, q.name_en, q.names, self.languages)

    def window(self, number: int) -> WindowConfig:
        """Return the window with this number (KeyError if none)."""
        return _find(self.windows, "number", number)

    def window_names(self, number: int) -> dict[str, str]:
        """The window's name in each of the hall's languages (English where it has none; empty: no such window)."""
        w = next((x for x in self.windows if x.number == number), None)
        return all_names(w.name, w.name_en, w.names, self.languages) if w else {}


class UserConfig(BaseModel):
    """A staff account: admin, clerk, approver or auditor."""

    model_config = _STRICT
    username: str = Field(pattern=USERNAME)
    display_name: str = ""
    password: SecretStr | None = Field(default=None, min_length=PASSWORD_MIN_DEMO)
    password_hash: str | None = None
    role: Literal["admin", "clerk", "approver", "auditor"]
    hall: str | None = None
    windows: list[int] = Field(default_factory=list)

    @model_validator(mode="after")
    def _check(self) -> Self:
        errors = []
        if self.password is None and self.password_hash is None:
            errors.append(_err((), f"user '{self.username}' needs a 'password' or a 'password_hash'"))
        elif self.password is not None and self.password_hash is not None:
            errors.append(_err(("password_hash",), "give either 'password' or 'password_hash', not both"))
        elif self.password_hash is not None and not self.password_hash.startswith("$argon2"):
            hint = "must be an argon2 hash starting with '$argon2' (or give 'password' instead)"
            errors.append(_err(("password_hash",), hint))
        if self.role != "admin" and self.hall is None:
            errors.append(_err(("hall",), f"a user with role '{self.role}' needs 'hall = \"...\"'"))
        if self.windows and self.role != "clerk":
            errors.append(_err(("windows",), "only clerks are bound to windows; remove 'windows'"))
        return _checked(self, errors)


class DeviceConfig(BaseModel):
    """A kiosk, display board or general-desk agent (`desk`: its card reader and printer) of a hall."""

    model_config = _STRICT
    name: str = Field(min_length=1)
    role: Literal["kiosk", "display", "desk"]
    hall: str
    token: SecretStr = Field(min_length=TOKEN_MIN_DEMO)
    window: int | None = Field(default=None, ge=1)
    # Peripherals of a kiosk, as driver URLs (see peripherals/): e.g. "escpos+serial:///dev/ttyUSB0",
    # "sam+serial:///dev/ttyUSB1?baudrate=115200", "serial:///dev/ttyACM0", or "sim://" for simulators.
    printer: str | None = None
    id_reader: str | None = None
    scanner: str | None = None

    @model_validator(mode="after")
    def _check(self) -> Self:
        bad = self.window is not None and self.role != "display"
        return _checked(self, [_err(("window",), "only a display can be bound to a window")] if bad else [])


class TemplateConfig(BaseModel):
    """A registered template of a template provider for one kind of message: `[notify.templates.<kind>]`."""

    model_config = _STRICT
    code: str = Field(min_length=1, max_length=64)  # Alibaba TemplateCode, Tencent TemplateId, WeChat template_id
    # The template's variables, in its order, each filled with one of the message's values (messages.PARAMS):
    # e.g. {number = "number", window = "window"}; Tencent's {1}, {2} take them by position.
    params: dict[str, str] = Field(default_factory=dict)
    page: str | None = None  # WeChat: the mini program page the message opens


TEMPLATE_PROVIDERS = ("aliyun", "tencent", "wechat")


class NotifyConfig(BaseModel):
    """Where messages to citizens' phones go (silent calling): the `[notify]` table."""

    model_config = _STRICT
    provider: Literal["log", "webhook", "aliyun", "tencent", "wechat"] = "log"
    # webhook: the gateway's address; aliyun, tencent, wechat: the service's own address when not the public one
    url: str | None = None
    # webhook: the HMAC-SHA256 key of X-Hall-Signature; aliyun: AccessKey secret; tencent: SecretKey;
    # wechat: the AppSecret
    secret: SecretStr | None = None
    key_id: str | None = None  # aliyun: AccessKey ID; tencent: SecretId; wechat: AppID
    sign_name: str | None = None  # SMS signature (短信签名) registered with Alibaba Cloud or Tencent Cloud
    sdk_app_id: str | None = None  # tencent: SmsSdkAppId
    region: str = "ap-guangzhou"  # tencent: the API region
    # wechat: which app key_id is. A mini program's subscription messages go to the openid its tickets carry;
    # an official account's (服务号订阅通知, bizsend) to the openid bound on the tracking page (web OAuth)
    wechat_account: Literal["mini_program", "official_account"] = "mini_program"
    templates: dict[str, TemplateConfig] = Field(default_factory=dict)  # by message kind
    timeout_s: float = Field(default=5.0, gt=0, le=60)
    max_attempts: int = Field(default=8, ge=1, le=100)

    @property
    def wechat_bindings(self) -> bool:
        """Whether messages go to an openid bound on the tracking page (an official account's notices)."""
        return self.provider == "wechat" and self.wechat_account == "official_account"

    @model_validator(mode="after")
    def _check(self) -> Self:
        errors = []
        if self.provider == "webhook" and not (self.url or "").startswith(("http://", "https://")):
            errors.append(_err(("url",), 'the webhook provider needs url = "http(s)://…"'))
        if self.provider in TEMPLATE_PROVIDERS:
            errors += self._template_errors()
        return _checked(self, errors)

    def _template_errors(self) -> list[InitErrorDetails]:
        from .notify.messages import PARAMS  # here: the notify package imports this module

        needed = {"key_id": self.key_id, "secret": self.secret, "templates": self.templates}
        if self.provider != "wechat":
            needed["sign_name"] = self.sign_name
        if self.provider == "tencent":
            needed["sdk_app_id"] = self.sdk_app_id
        errors = [_err((k,), f"the {self.provider} provider needs {k}") for k, v in needed.items() if not v]
        if self.url is not None and not self.url.startswith(("http://", "https://")):
            errors.append(_err(("url",), 'url must be "http(s)://…" (leave it out for the public service)'))
        for kind, t in self.templates.items():
            if kind not in PARAMS:
                errors.append(_err(("templates", kind), f"unknown message kind '{kind}' (one of {', '.join(PARAMS)})"))
                continue
            for var, name in t.params.items():
                if name not in PARAMS[kind]:
                    has = ", ".join(PARAMS[kind])
                    errors.append(_err(("templates", kind, "params", var), f"a {kind} message has no '{name}' ({has})"))
        return errors


class ServerConfig(BaseModel):
    """Server-wide settings of the `[server]` table."""

    model_config = _STRICT
    demo: bool = False
    secret_key: SecretStr | None = None
    database_url: str | None = None
    api_docs: bool | None = None  # /docs and /openapi.json; default: only in demo mode
    # Where the public routes' rate-limit counts live: "memory://" (one process), "redis://host:6379/0",
    # or "database"; default memory with one process, the database with several (queue_server/ratelimit.py).
    rate_limit_url: str | None = Field(default=None, pattern=r"^(memory://|redis://|rediss://|database$)")
    # Who may read /metrics (queue_server/metrics.py): with a token, only `Authorization: Bearer <token>`;
    # without one, anyone in demo mode and nobody outside it (the route is not served).
    metrics_token: SecretStr | None = Field(default=None, min_length=TOKEN_MIN_DEMO)


class CertificatesConfig(BaseModel):
    """`[certificates]`: the key and certificate the halls sign electronic certificates (电子证照) with.

    PEM or DER files; `chain_files` hold the issuing CA certificates (the self-signed one is the trust root the
    verification checks against). Absent in demo mode: a demo CA is made under `<var_dir>/pki/`
    (queue_server/cases/signing.py); absent otherwise: approvals issue no electronic certificate.
    """

    model_config = _STRICT
    key_file: str = Field(min_length=1)
    cert_file: str = Field(min_length=1)
    chain_files: list[str] = Field(default_factory=list)
    key_password: SecretStr | None = None


class AppConfig(BaseModel):
    """The whole configuration file: server, halls, users and devices."""

    model_config = _STRICT
    server: ServerConfig = Field(default_factory=ServerConfig)
    certificates: CertificatesConfig | None = None
    notify: NotifyConfig = Field(default_factory=NotifyConfig)
    halls: list[HallConfig] = Field(min_length=1)
    users: list[UserConfig] = Field(default_factory=list)
    devices: list[DeviceConfig] = Field(default_factory=list)

    @model_validator(mode="after")
    def _cross_check(self) -> Self:
        demo = self.server.demo
        halls = {h.code: h for h in self.halls}
        errors = _repeats("halls", "code", [h.code for h in self.halls], "hall code")
        errors += _repeats("users", "username", [u.username for u in self.users], "username")
        errors += _repeats("devices", "name", [d.name for d in self.devices], "device name")
        prefixes = [h.case_code for h in self.halls]
        for i in _duplicates(prefixes):
            other = self.halls[prefixes.index(prefixes[i])].code
            message = f"case numbers would start with {prefixes[i]} as hall '{other}''s do: set three other digits"
            errors.append(_err(("halls", i, "case_prefix"), message))
        tokens = [d.token.get_secret_value() for d in self.devices]
        errors += [_err(("devices", i, "token"), "is the same as another device's token") for i in _duplicates(tokens)]
        if self.notify.provider == "webhook" and self.notify.secret is None and not demo:
            errors.append(_err(("notify", "secret"), "the webhook needs a secret to sign its messages"))
        elif self.notify.secret is not None and not demo:
            errors += _weak_key(("notify", "secret"), self.notify.secret.get_secret_value())
        minimum = PASSWORD_MIN_DEMO if demo else PASSWORD_MIN
        for i, user in enumerate(self.users):
            if user.password is not None and len(user.password.get_secret_value()) < minimum:
                errors.append(_err(("users", i, "password"), f"must be at least {minimum} characters long"))
            elif user.password is not None and not demo:
                guessable = password_problem(user.password.get_secret_value(), [user.username, user.display_name])
                errors += [_err(("users", i, "password"), guessable)] if guessable else []
            errors += self._hall_refs(("users", i), user.hall, user.windows, halls)
        minimum = TOKEN_MIN_DEMO if demo else TOKEN_MIN
        for i, device in enumerate(self.devices):
            if len(device.token.get_secret_value()) < minimum:
                errors.append(_err(("devices", i, "token"), f"must be at least {minimum} characters long"))
            elif not demo:
                errors += _weak_key(("devices", i, "token"), device.token.get_secret_value())
            windows = [] if device.window is None else [device.window]
            errors += self._hall_refs(("devices", i), device.hall, windows, halls)
        metrics_token = self.server.metrics_token
        if metrics_token is not None and not demo:
            if len(metrics_token.get_secret_value()) < TOKEN_MIN:
                errors.append(_err(("server", "metrics_token"), f"must be at least {TOKEN_MIN} characters long"))
            else:
                errors += _weak_key(("server", "metrics_token"), metrics_token.get_secret_value())
        return _checked(self, errors)

    @staticmethod
    def _hall_refs(loc: Loc, code: str | None, numbers: list[int], halls: dict[str, HallConfig]) -> _Errors:
        if code is None:
            return []
        if code not in halls:
            return [_err((*loc, "hall"), f"unknown hall '{code}' (halls are {', '.join(halls)})")]
        key, known = ("window" if loc[0] == "devices" else "windows"), [w.number for w in halls[code].windows]
        return [_err((*loc, key), f"hall '{code}' has no window {n}") for n in numbers if n not in known]

    def hall(self, code: str) -> HallConfig:
        """Return the hall with this code (KeyError if none)."""
        return _find(self.halls, "code", code)


def _weak_key(loc: Loc, value: str) -> _Errors:
    """The error for a guessable device token or webhook secret (none when it is random enough)."""
    problem = key_problem(value, TOKEN_MIN_BITS)
    return [_err(loc, f"{problem}; {GENERATE_HINT}")] if problem else []


def check_secret(secret: str | None, *, demo: bool) -> None:
    """Refuse, outside demo mode, a missing, short or guessable server secret key."""
    if demo:
        return
    where = "HALL_SECRET_KEY (or [server] secret_key)"
    hint = "; generate one with: python -c 'import secrets; print(secrets.token_urlsafe(48))'"
    if not secret:
        message = f"no secret key is set: set {where}"
    elif len(secret) < SECRET_MIN:
        message = f"the secret key in {where} is too short ({len(secret)} characters, need {SECRET_MIN})"
    elif len(set(secret)) <= 4 or secret.lower().startswith(_WEAK_SECRET_STARTS):
        message = f"the secret key in {where} is easy to guess"
    elif problem := key_problem(secret, SECRET_MIN_BITS):
        message = f"the secret key in {where} {problem}"
    else:
        return
    raise ConfigError([ConfigProblem("server.secret_key", message + hint)])


# --- Line locator -------------------------------------------------------------------------------------
# tomllib keeps no source positions, so this small scanner maps a validation path back to a line. It
# follows `[table]` and `[[array.of.tables]]` headers, counting the tables of each array per parent (so the
# 4th `[[halls.windows]]` after the 1st `[[halls]]` is ("halls", 0, "windows", 3)), and `key =` lines. It
# skips multi-line strings and arrays; inline tables map to the line of their key.

_HEADER = re.compile(r"^\s*(\[\[?)\s*([^\[\]]+?)\s*\]\]?\s*(?:#.*)?$")
_BARE_OR_QUOTED = r"(?:[A-Za-z0-9_-]+|\"[^\"]*\"|'[^']*')"
_KEY = re.compile(rf"^\s*({_BARE_OR_QUOTED}(?:\s*\.\s*{_BARE_OR_QUOTED})*)\s*=(.*)$")
_STRING = re.compile(r"\"(?:\\.|[^\"\\])*\"|'[^']*'")


def _split_key(dotted: str) -> list[str]:
    return [part.strip().strip("\"'") for part in re.findall(rf"{_BARE_OR_QUOTED}", dotted)]


def _open_brackets(value: str) -> int:
    value = _STRING.sub("", value).split("#", 1)[0]
    return value.count("[") + value.count("{") - value.count("]") - value.count("}")


def _line_table(text: str) -> dict[Loc, int]:
    lines: dict[Loc, int] = {}
    arrays: dict[Loc, int] = {}  # array-of-tables location -> tables seen so far
    current: Loc = ()
    in_string: str | None = None  # the open triple quote of a multi-line string
    depth = 0  # open brackets of a multi-line array
    for number, raw in enumerate(text.splitlines(), 1):
        if in_string:
            if raw.count(in_string) % 2 == 1:
                in_string = None
            continue
        if depth > 0:
            depth += _open_brackets(raw)
            continue
        header, key = _HEADER.match(raw), _KEY.match(raw)
        if header:
            loc: Loc = ()
            names = _split_key(header[2])
            for name in names[:-1]:
                loc = (*loc, name)
                if loc in arrays:
                    loc = (*loc, arrays[loc] - 1)
            loc = (*loc, names[-1])
            if header[1] == "[[":
                arrays[loc] = arrays.get(loc, 0) + 1
                loc = (*loc, arrays[loc] - 1)
            current = loc
            lines.setdefault(loc, number)
        elif key:
            loc = current
            for name in _split_key(key[1]):
                loc = (*loc, name)
                lines.setdefault(loc, number)
            value = key[2]
            for quote in ('"""', "'''"):
                if value.count(quote) % 2 == 1:
                    in_string = quote
            if not in_string:
                depth = max(_open_brackets(value), 0)
    return lines


def _nearest(table: dict[Loc, int], loc: Loc) -> int | None:
    return next((table[loc[:end]] for end in range(len(loc), 0, -1) if loc[:end] in table), None)


def locate_line(text: str, loc: Loc) -> int | None:
    """Return the line of `loc` in TOML text, or of its nearest enclosing table or key that is present."""
    return _nearest(_line_table(text), loc)


# --- Loading ------------------------------------------------------------------------------------------


def _model_at(loc: Loc) -> type[BaseModel] | None:
    model: Any = AppConfig
    for part in loc:
        if isinstance(part, int):
            continue
        if not (isinstance(model, type) and issubclass(model, BaseModel)) or part not in model.model_fields:
            return None
        model = model.model_fields[part].annotation
        while typing.get_origin(model) in (list, typing.Union, types.UnionType):
            model = next(a for a in typing.get_args(model) if a is not type(None))
    return model if isinstance(model, type) and issubclass(model, BaseModel) else None


def _message(error: ErrorDetails) -> str:
    kind, ctx, loc = error["type"], error.get("ctx", {}), error["loc"]
    key = loc[-1] if loc else ""
    if kind == "missing":
        return f"required setting '{key}' is missing"
    if kind == "extra_forbidden":
        model = _model_at(loc[:-1])
        close = difflib.get_close_matches(str(key), list(model.model_fields) if model else [], n=1)
        return f"unknown setting '{key}'" + (f" (did you mean '{close[0]}'?)" if close else "")
    if kind == "string_pattern_mismatch":
        return _PATTERN_HELP.get(ctx.get("pattern", ""), error["msg"])
    if kind in ("string_too_short", "too_short"):
        if ctx.get("field_type") == "List":
            return f"needs at least {ctx['min_length']} entry" + ("" if ctx["min_length"] == 1 else "s")
        if ctx.get("min_length") == 1:
            return "must not be empty"
        return f"must be at least {ctx['min_length']} characters long"
    simple = {
        "int_type": "must be a whole number (without quotes)",
        "bool_type": "must be true or false (without quotes)",
        "string_type": "must be text in quotes",
        "list_type": 'must be a list, like ["A", "B"]',
        "model_type": "must be a table",
        "greater_than": f"must be greater than {ctx.get('gt')}",
        "greater_than_equal": f"must be at least {ctx.get('ge')}",
        "literal_error": f"must be one of {ctx.get('expected')}",
    }
    if kind in simple:
        return simple[kind]
    return str(ctx["m"]) if kind == "config" else error["msg"].removeprefix("Value error, ")


_SYNTAX_AT = re.compile(r"\s*\(at line (\d+), column (\d+)\)$")


def parse_config(text: str, source: str = "<config>") -> AppConfig:
    """Parse and validate configuration TOML text; `source` names it in error messages."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message, at = str(exc), _SYNTAX_AT.search(str(exc))
        line = int(at[1]) if at else len(text.splitlines()) or None
        if at:
            message = f"{message[: at.start()]} (column {at[2]})"
        raise ConfigError([ConfigProblem("", f"TOML syntax error: {message}", line)], source) from exc
    try:
        return AppConfig.model_validate(data)
    except ValidationError as exc:
        lines = _line_table(text)
        problems = [ConfigProblem(format_path(e["loc"]), _message(e), _nearest(lines, e["loc"])) for e in exc.errors()]
        problems.sort(key=lambda p: (p.line is None, p.line or 0))
        raise ConfigError(problems, source) from None  # the chained error would show secret inputs


def load_config(path: Path) -> AppConfig:
    """Read and validate the configuration file at `path`."""
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise ConfigError([ConfigProblem("", f"cannot read the file: {exc.strerror}")], str(path)) from exc
    except UnicodeDecodeError as exc:
        raise ConfigError([ConfigProblem("", "the file is not UTF-8 text")], str(path)) from exc
    return parse_config(text, str(path))
