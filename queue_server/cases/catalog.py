"""The items catalog (事项清单): models of one item file and a loader whose errors name file, line and field.

An item file (``config/items/*.toml``) describes one service item: code, names, domain, legal basis,
service object, conditions, promised time limit in working days (承诺时限), fees, and its situations
(办事情形), each with its materials — required or optional, whether 容缺 (missing now, supplied later)
and 告知承诺 (a signed commitment instead of the proof) are allowed, a sample text and notes: the
zero-basis template (零基础模板) a kiosk shows. Pure: reads files, no database.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from ..config import ConfigError, ConfigProblem, format_path, locate_line
from ..languages import BASE, name_problems
from .rules import Rule

ITEM_CODE = r"^[A-Z0-9][A-Z0-9-]{2,31}$"
PART_CODE = r"^[a-z0-9][a-z0-9_-]{0,31}$"
_STRICT = ConfigDict(extra="forbid", frozen=True, strict=True)


def default_items_dir() -> Path:
    """The catalog shipped with the server: ``queue_server/defaults/items`` (in the repository a link to
    ``config/items``; in the wheel, package data)."""
    return (Path(__file__).parent.parent / "defaults" / "items").resolve()


class Material(BaseModel):
    """One material (申请材料) of a situation."""

    model_config = _STRICT
    code: str = Field(pattern=PART_CODE)
    name: str = Field(min_length=1, max_length=100)
    name_en: str = Field(min_length=1, max_length=200)
    required: bool = True
    form: Literal["原件", "复印件", "原件和复印件", "电子材料"] = "原件"
    copies: int = Field(default=1, ge=0, le=20)
    shortfall_allowed: bool = False  # 容缺: may be supplied after acceptance
    commitment_allowed: bool = False  # 告知承诺: the applicant's signed commitment replaces it
    sample: str = ""  # 样表 / sample text shown with the zero-basis template
    notes: str = ""  # 填写说明 / what to watch for

    @model_validator(mode="after")
    def _check(self) -> Self:
        if self.shortfall_allowed and not self.required:
            raise ValueError(f"material '{self.code}': only a required material can be marked shortfall_allowed")
        return self


class Situation(BaseModel):
    """A situation (办事情形) of an item: who applies in which case, with its own material list."""

    model_config = _STRICT
    code: str = Field(pattern=PART_CODE)
    name: str = Field(min_length=1, max_length=100)
    name_en: str = Field(min_length=1, max_length=200)
    materials: list[Material] = Field(min_length=1)

    @model_validator(mode="after")
    def _check(self) -> Self:
        codes = [m.code for m in self.materials]
        twice = sorted({c for c in codes if codes.count(c) > 1})
        if twice:
            raise ValueError(f"situation '{self.code}' lists material {', '.join(twice)} twice")
        return self

    def material(self, code: str) -> Material | None:
        """The material with this code, or None."""
        return next((m for m in self.materials if m.code == code), None)


class Licence(BaseModel):
    """The licence (证照) an approval of the item issues: with it, an approved case gets a signed 电子证照."""

    model_config = _STRICT
    name: str = Field(min_length=1, max_length=60)  # 个体工商户营业执照
    name_en: str = Field(min_length=1, max_length=120)
    valid_years: int | None = Field(default=None, ge=1, le=30)  # None: 长期有效
    # form fields printed on the licence (e.g. the business name), as label -> form field code
    shows: dict[str, str] = Field(default_factory=dict)


class Item(BaseModel):
    """A service item (事项) as one catalog file describes it."""

    model_config = _STRICT
    code: str = Field(pattern=ITEM_CODE)
    name: str = Field(min_length=1, max_length=100)
    name_en: str = Field(min_length=1, max_length=200)
    domain: str = Field(min_length=1, max_length=32)  # 市场准入, 投资建设 … (the kiosk groups by it)
    domain_en: str = Field(min_length=1, max_length=64)
    # the item's and its domain's names in the other languages (queue_server/languages.py), absent: English
    names: dict[str, str] | None = None  # {ko = "…", ja = "…", ru = "…"}
    domain_names: dict[str, str] | None = None
    department: str = Field(min_length=1, max_length=100)  # 实施机关
    department_en: str = ""
    kind: str = "行政许可"  # 事项类型: 行政许可, 公共服务, 行政确认 …
    legal_basis: str = Field(min_length=1)
    service_object: list[Literal["自然人", "法人", "非法人组织"]] = Field(min_length=1)
    conditions: list[str] = Field(default_factory=list)  # 受理条件
    legal_days: int = Field(ge=0, le=365)  # 法定时限 (working days)
    time_limit_days: int = Field(ge=0, le=365)  # 承诺时限 (working days); 0: 即办 (done on the spot)
    fees: str = "不收费"
    fees_en: str = "Free of charge"
    commitment_allowed: bool = False  # 告知承诺制 applies to this item
    keywords: list[str] = Field(default_factory=list)
    licence: Licence | None = None  # 实体证照与电子证照同步制发: the approval issues this licence, signed
    rules: list[Rule] | None = None  # 秒批秒办: a submission meeting every rule is approved at once (rules.py)
    # 网上预审: a web case whose pre-review passed is accepted, approved and ready at once (no visit to a window)
    prereview_output: bool = False
    situations: list[Situation] = Field(min_length=1)

    @model_validator(mode="after")
    def _check(self) -> Self:
        codes = [s.code for s in self.situations]
        twice = sorted({c for c in codes if codes.count(c) > 1})
        if twice:
            raise ValueError(f"item '{self.code}' lists situation {', '.join(twice)} twice")
        bad = name_problems(self.names or {}) + name_problems(self.domain_names or {})
        if bad:
            raise ValueError(bad[0])
        if self.time_limit_days > self.legal_days:
            raise ValueError("time_limit_days (承诺时限) cannot be longer than legal_days (法定时限)")
        if not self.commitment_allowed and any(m.commitment_allowed for s in self.situations for m in s.materials):
            raise ValueError("a material allows 告知承诺 but the item does not: set commitment_allowed = true")
        self._check_rules()
        return self

    def _check_rules(self) -> None:
        rules = self.rules or []
        codes = [r.code for r in rules]
        twice = sorted({c for c in codes if codes.count(c) > 1})
        if twice:
            raise ValueError(f"item '{self.code}' lists rule {', '.join(twice)} twice")
        known = {s.code: s for s in self.situations}
        for r in rules:
            unknown = [s for s in r.situations if s not in known]
            if unknown:
                raise ValueError(f"rule '{r.code}': no situation {', '.join(unknown)}")
            if r.kind == "material":
                lacking = [s for s in r.situations or known if known[s].material(r.material or "") is None]
                if lacking:
                    raise ValueError(f"rule '{r.code}': situation {', '.join(lacking)} has no material '{r.material}'")

    def situation(self, code: str) -> Situation | None:
        """The situation with this code, or None."""
        return next((s for s in self.situations if s.code == code), None)


class CatalogError(ConfigError):
    """A catalog file cannot be used; `str()` names file, line and field of each problem."""


def _problems(exc: ValidationError, text: str) -> list[ConfigProblem]:
    out = []
    for e in exc.errors():
        loc = tuple(e["loc"])
        msg = e["msg"].removeprefix("Value error, ")
        if e["type"] == "missing":
            msg = f"required field '{loc[-1]}' is missing"
        elif e["type"] == "extra_forbidden":
            msg = f"unknown field '{loc[-1]}'"
        out.append(ConfigProblem(format_path(loc), msg, locate_line(text, loc)))
    return out


def parse_item(text: str, source: str = "<item>") -> Item:
    """Parse and validate one item file's text; CatalogError naming `source`, line and field."""
    try:
        data: dict[str, Any] = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise CatalogError([ConfigProblem("", f"TOML syntax error: {exc}")], source) from exc
    try:
        return Item.model_validate(data)
    except ValidationError as exc:
        raise CatalogError(_problems(exc, text), source) from None


def load_catalog(directory: Path | None = None) -> list[Item]:
    """Every item of the catalog directory (``*.toml``, sorted by file name); codes must be unique."""
    root = directory or default_items_dir()
    files = sorted(root.glob("*.toml"))
    if not files:
        raise CatalogError([ConfigProblem("", "no item files (*.toml) found")], str(root))
    items: list[Item] = []
    problems: list[str] = []
    seen: dict[str, Path] = {}
    for path in files:
        try:
            item = parse_item(path.read_text(encoding="utf-8-sig"), str(path))
        except CatalogError as exc:
            problems.append(str(exc))
            continue
        if item.code in seen:
            problems.append(f"{path}: code: item code '{item.code}' is also used by {seen[item.code].name}")
            continue
        seen[item.code] = path
        items.append(item)
    if problems:
        raise CatalogError([ConfigProblem("", "\n".join(problems))])
    return items


def missing_names(items: list[Item], languages: list[str]) -> list[str]:
    """Each item name and domain name a language of `languages` lacks (shown in English instead), as sentences."""
    out = []
    for item in items:
        for lang in (x for x in dict.fromkeys(languages) if x not in BASE):
            if lang not in (item.names or {}):
                out.append(f"item {item.code} has no name in '{lang}': add names.{lang}")
            if lang not in (item.domain_names or {}):
                out.append(f"item {item.code} has no domain name in '{lang}': add domain_names.{lang}")
    return out
