"""秒批秒办 rules: what an item's catalogue file declares a submission must satisfy to be approved at once.

Rules are data, in the item file (``[[rules]]``) and so versioned with the item: a case is checked under the
version it was submitted under. Three kinds: a form field and its checks (required, length, pattern, one of a
list, words that must not appear), a material that must be uploaded, and a data check against a shared source
(`sources.py`: the source's record for the applicant's ID number must exist and hold the expected values).
`evaluate` is pure but for the sources' look-ups (blocking: run it in a worker thread). A failing rule never
refuses anything: the case goes to the ordinary acceptance with the failed rules listed for the clerk.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from .sources import DataSource

_STRICT = ConfigDict(extra="forbid", frozen=True, strict=True)
RULE_CODE = r"^[a-z0-9][a-z0-9_-]{0,31}$"
Scalar = str | int | bool


class Rule(BaseModel):
    """One rule of an item (see the module's docstring); `situations` empty: every situation."""

    model_config = _STRICT
    code: str = Field(pattern=RULE_CODE)
    kind: Literal["field", "material", "data"]
    label: str = Field(min_length=1, max_length=100)  # what the clerk reads when it fails
    label_en: str = Field(min_length=1, max_length=200)
    situations: list[str] = Field(default_factory=list)
    basis: str = ""  # where the rule comes from (a regulation, the local policy)
    # field
    field: str | None = None
    required: bool = True
    min_length: int | None = Field(default=None, ge=0, le=1000)
    max_length: int | None = Field(default=None, ge=1, le=1000)
    pattern: str | None = None  # the whole value must match
    one_of: list[str] | None = None
    forbid_words: list[str] | None = None  # e.g. business scope needing a prior permit (前置许可)
    # material
    material: str | None = None
    # data
    source: str | None = None
    expect: dict[str, Scalar] | None = None  # fields of the source's record and the values they must have

    @model_validator(mode="after")
    def _check(self) -> Self:
        need = {"field": "field", "material": "material", "data": "source"}[self.kind]
        if getattr(self, need) is None:
            raise ValueError(f"rule '{self.code}': a {self.kind} rule needs '{need}'")
        if self.pattern is not None:
            try:
                re.compile(self.pattern)
            except re.error as exc:
                raise ValueError(f"rule '{self.code}': pattern does not compile: {exc}") from None
        return self

    def applies_to(self, situation: str) -> bool:
        """Whether the rule is checked for this situation."""
        return not self.situations or situation in self.situations


@dataclass(frozen=True)
class RuleResult:
    """One rule's outcome, with what the clerk needs to know when it failed."""

    code: str
    label: str
    label_en: str
    passed: bool
    detail: str = ""


@dataclass(frozen=True)
class SmartCheck:
    """Every applicable rule's outcome; `passed` only when there was at least one rule and all passed."""

    version: int
    results: tuple[RuleResult, ...]

    @property
    def passed(self) -> bool:
        """All rules passed (and there were rules)."""
        return bool(self.results) and all(r.passed for r in self.results)

    @property
    def failed(self) -> list[RuleResult]:
        """The rules that failed."""
        return [r for r in self.results if not r.passed]

    def as_json(self) -> dict[str, Any]:
        """What is stored with the case and shown to staff."""
        return {"version": self.version, "passed": self.passed, "results": [asdict(r) for r in self.results]}


def _field(rule: Rule, form: Mapping[str, Any]) -> str:
    """'' when the field passes, else why not."""
    assert rule.field is not None
    raw = form.get(rule.field)
    value = "" if raw is None else str(raw).strip()
    if not value:
        return "未填写 / missing" if rule.required else ""
    if rule.min_length is not None and len(value) < rule.min_length:
        return f"少于 {rule.min_length} 个字 / shorter than {rule.min_length}"
    if rule.max_length is not None and len(value) > rule.max_length:
        return f"超过 {rule.max_length} 个字 / longer than {rule.max_length}"
    if rule.pattern is not None and not re.fullmatch(rule.pattern, value):
        return "格式不符 / does not match the required form"
    if rule.one_of is not None and value not in rule.one_of:
        return "不在可选范围内 / not one of the allowed values"
    hit = [w for w in rule.forbid_words or [] if w in value]
    if hit:
        return f"含有“{'、'.join(hit)}”，须人工审查 / contains words that need a clerk's review"
    return ""


def _data(rule: Rule, id_number: str, sources: Mapping[str, DataSource]) -> str:
    assert rule.source is not None
    src = sources.get(rule.source)
    if src is None:
        return f"数据源 {rule.source} 不可用 / source '{rule.source}' is not available"
    record = src.lookup(id_number)
    if record is None:
        return f"{src.title}中无记录 / no record in '{rule.source}'"
    wrong = [k for k, v in (rule.expect or {}).items() if record.get(k) != v]
    if wrong:  # which fields differ, never their values (they may be personal)
        return f"{src.title}核验不符：{'、'.join(wrong)} / '{rule.source}' does not confirm: {', '.join(wrong)}"
    return ""


def evaluate(
    rules: list[Rule],
    *,
    version: int,
    situation: str,
    form: Mapping[str, Any],
    materials: set[str],
    id_number: str,
    sources: Mapping[str, DataSource],
) -> SmartCheck:
    """Every rule of the situation checked against the submission (data rules through the sources)."""
    out = []
    for rule in rules:
        if not rule.applies_to(situation):
            continue
        if rule.kind == "field":
            why = _field(rule, form)
        elif rule.kind == "material":
            why = "" if rule.material in materials else "未上传 / not uploaded"
        else:
            why = _data(rule, id_number, sources)
        out.append(RuleResult(rule.code, rule.label, rule.label_en, not why, why))
    return SmartCheck(version, tuple(out))


def form_fields(rules: list[Rule], situation: str) -> list[dict[str, Any]]:
    """The form fields of a situation, as a page or kiosk asks for them: those the rules check (one per field,
    with the first rule's label; required if any rule requires it; its choices, pattern and lengths)."""
    out: dict[str, dict[str, Any]] = {}
    for r in rules:
        if r.kind != "field" or not r.applies_to(situation) or r.field is None:
            continue
        f = out.setdefault(r.field, {"code": r.field, "label": r.label, "label_en": r.label_en, "required": False})
        f["required"] = f["required"] or r.required
        for key in ("one_of", "pattern", "min_length", "max_length"):
            value = getattr(r, key)
            if value is not None and key not in f:
                f[key] = value
    return list(out.values())
