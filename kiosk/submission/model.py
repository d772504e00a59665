"""What self-submission handles: items and their zero-basis templates as the API gives them, captured pages,
and the submission itself (the JSON part and the files of POST /halls/{hall}/cases, and an outbox entry)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from kiosk.strings import Lang, name_in, t

Names = tuple[tuple[str, str], ...]  # (language, name) in the languages beyond Chinese and English (ko, ja, ru)


def own_names(names: Mapping[str, Any] | None, name_en: str) -> Names:
    """An API `names` map's own names in ko/ja/ru: the server fills a language an item has no name in with the
    English name (`queue_server.languages.all_names`), and the kiosk shows Chinese there instead."""
    return tuple(
        (str(k), str(v)) for k, v in (names or {}).items() if k not in ("zh", "en") and v and str(v) != name_en
    )


@dataclass(frozen=True, slots=True)
class ItemSummary:
    """One item of GET /items: what a tile shows."""

    code: str
    name: str
    name_en: str
    domain: str
    time_limit_days: int
    names: Names = ()

    @classmethod
    def from_api(cls, d: Mapping[str, Any]) -> ItemSummary:
        """From one line of GET /api/v1/items."""
        name_en = str(d.get("name_en") or "")
        return cls(
            str(d["code"]),
            str(d["name"]),
            name_en,
            str(d.get("domain") or ""),  # a chain (一件事) has none
            int(d.get("time_limit_days") or 0),
            own_names(d.get("names"), name_en),
        )

    def label(self, lang: Lang) -> str:
        """The name in `lang` (its own ko/ja/ru name, else Chinese)."""
        return name_in(lang, self.name, self.name_en, self.names)


@dataclass(frozen=True, slots=True)
class Material:
    """One material of a situation (the zero-basis template's line)."""

    code: str
    name: str
    name_en: str
    required: bool = True
    shortfall_allowed: bool = False
    commitment_allowed: bool = False
    form: str = ""
    sample: str = ""
    notes: str = ""

    @property
    def may_follow(self) -> bool:
        """Whether the citizen may mark it 'bring later' (容缺 or 告知承诺)."""
        return self.shortfall_allowed or self.commitment_allowed

    def label(self, lang: Lang) -> str:
        """The name in `lang`."""
        return self.name_en if lang == "en" and self.name_en else self.name

    def tags(self, lang: Lang) -> list[str]:
        """必交/选交, 可容缺, 可告知承诺 — words, never colour alone."""
        out = [t("tag_required" if self.required else "tag_optional", lang)]
        if self.shortfall_allowed:
            out.append(t("tag_shortfall", lang))
        if self.commitment_allowed:
            out.append(t("tag_commitment", lang))
        return out


@dataclass(frozen=True, slots=True)
class Situation:
    """One situation (办事情形) with its materials."""

    code: str
    name: str
    name_en: str
    materials: tuple[Material, ...]

    def label(self, lang: Lang) -> str:
        """The name in `lang`."""
        return self.name_en if lang == "en" and self.name_en else self.name


@dataclass(frozen=True, slots=True)
class FormField:
    """A shared form field of a chain (一链办理): asked once for all its items."""

    code: str
    label_zh: str
    label_en: str
    kind: str = "text"  # text | number | choice
    choices: tuple[str, ...] = ()
    required: bool = True

    def label(self, lang: Lang) -> str:
        """The label in `lang`."""
        return self.label_en if lang == "en" and self.label_en else self.label_zh

    @property
    def at_kiosk(self) -> bool:
        """Whether the kiosk asks it: every kind — choices as tiles, numbers on the keypad, text on the on-screen
        keyboard (Latin letters and digits; left empty, the window fills it in)."""
        return self.kind in ("choice", "number", "text")


@dataclass(frozen=True, slots=True)
class ItemDetail:
    """GET /api/v1/items/{code}: the item and its zero-basis template."""

    code: str
    version: int
    name: str
    name_en: str
    time_limit_days: int
    fees: str
    fees_en: str
    situations: tuple[Situation, ...]
    fields: tuple[FormField, ...] = ()  # a chain's shared form
    members: tuple[tuple[str, str], ...] = ()  # a chain's (一链办理) items: (name, name_en); none for one item
    names: Names = ()  # its own names in ko/ja/ru (the item file's `names`)

    @property
    def chain(self) -> bool:
        """Whether this is a chain of several items, not one item."""
        return bool(self.members)

    @classmethod
    def from_api(cls, d: Mapping[str, Any]) -> ItemDetail:
        """From the item's JSON."""
        fields = ("required", "shortfall_allowed", "commitment_allowed", "form", "sample", "notes")
        situations = tuple(
            Situation(
                str(s["code"]),
                str(s["name"]),
                str(s.get("name_en") or ""),
                tuple(
                    Material(
                        str(m["code"]),
                        str(m["name"]),
                        str(m.get("name_en") or ""),
                        **{k: m[k] for k in fields if k in m},
                    )
                    for m in s["materials"]
                ),
            )
            for s in d["situations"]
        )
        return cls(
            str(d["code"]),
            int(d.get("version") or 0),
            str(d["name"]),
            str(d.get("name_en") or ""),
            int(d.get("time_limit_days") or 0),
            str(d.get("fees") or ""),
            str(d.get("fees_en") or ""),
            situations,
            tuple(
                FormField(
                    str(f["code"]),
                    str(f["label"]),
                    str(f.get("label_en") or ""),
                    str(f.get("kind") or "text"),
                    tuple(str(c) for c in f.get("choices") or ()),
                    bool(f.get("required", True)),
                )
                for f in d.get("fields") or ()
            ),
            tuple((str(m["name"]), str(m.get("name_en") or "")) for m in d.get("members") or ()),
            own_names(d.get("names"), str(d.get("name_en") or "")),
        )

    def label(self, lang: Lang) -> str:
        """The name in `lang` (its own ko/ja/ru name, else Chinese)."""
        return name_in(lang, self.name, self.name_en, self.names)


@dataclass(frozen=True, slots=True)
class Page:
    """One captured page."""

    material: str
    content_type: str
    data: bytes


@dataclass(frozen=True, slots=True)
class Submission:
    """What goes to POST /halls/{hall}/cases (and into the outbox): the JSON part and the files."""

    submission_id: str
    item: str
    item_version: int | None
    situation: str
    name: str
    id_number: str
    phone: str | None
    form: dict[str, str]
    pages: tuple[Page, ...] = field(default=())
    chain: bool = False  # `item` is a chain's code: POST /halls/{hall}/chains
    id_type: str | None = None  # the document (kiosk.documents; None: told by the number's shape, as before)
    nationality: str | None = None  # a passport's holder's, ISO 3166-1 alpha-3
    lang: str | None = None  # the kiosk's language: the case's messages and receipt are in it (issue 22)

    @property
    def applicant(self) -> dict[str, Any]:
        """The `applicant` object: name, number, phone, and the document when the kiosk knows it."""
        out: dict[str, Any] = {"name": self.name, "id_number": self.id_number, "phone": self.phone}
        if self.id_type:
            out |= {"id_type": self.id_type, "nationality": self.nationality}
        return out

    def data(self) -> dict[str, Any]:
        """The multipart `data` field (a chain's names its chain; `item` stays for the outbox's entry)."""
        lang = {"lang": self.lang} if self.lang else {}
        if self.chain:
            return {
                "submission_id": self.submission_id,
                "chain": self.item,
                "item": self.item,
                "situation": self.situation,
                "applicant": self.applicant,
                "form": dict(self.form),
                "ticket_id": None,
            }
        return {
            "submission_id": self.submission_id,
            "item": self.item,
            "item_version": self.item_version,
            "situation": self.situation,
            "applicant": self.applicant,
            "form": dict(self.form),
            "ticket_id": None,
        } | lang

    @property
    def reference(self) -> str:
        """The local reference the citizen is shown while it waits in the outbox."""
        return "K-" + self.submission_id.replace("-", "")[:8].upper()
