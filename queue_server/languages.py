"""The languages a hall speaks to citizens (issue 22, R17): codes, names per language, and picking a language.

Chinese is always first and English second (the product's two base languages: every name has `name` and
`name_en`); a hall adds 한국어, 日本語, Русский with `languages = ["zh", "en", "ko"]` in its `[[halls]]` table, and
the queues and items then carry their names in those languages (`names = {ko = "…"}`), falling back to English.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

LANGS: tuple[str, ...] = ("zh", "en", "ko", "ja", "ru")  # the kiosk's gettext catalogues (kiosk/locale) too
BASE: tuple[str, str] = ("zh", "en")  # every hall speaks these, in this order
EXTRA: tuple[str, ...] = LANGS[2:]  # the languages a name table (`names`) may carry
# Each language's own name, as the tracking page's switcher and the staff's interpreter badge show it.
NATIVE = {"zh": "中文", "en": "English", "ko": "한국어", "ja": "日本語", "ru": "Русский"}
# The language's name in Chinese, for the clerk's badge: 需要语言服务（韩语）.
CHINESE = {"zh": "中文", "en": "英语", "ko": "韩语", "ja": "日语", "ru": "俄语"}


def language_problems(languages: list[str]) -> list[str]:
    """What is wrong with a hall's `languages` list (empty: nothing)."""
    problems = [f"unknown language '{x}' (languages are {', '.join(LANGS)})" for x in languages if x not in LANGS]
    twice = sorted({x for x in languages if languages.count(x) > 1})
    problems += [f"language '{x}' is listed twice" for x in twice]
    if list(languages[:2]) != list(BASE):
        problems.append('must start with "zh", "en" (Chinese first, then English), e.g. ["zh", "en", "ko"]')
    return problems


def name_problems(names: Mapping[str, str]) -> list[str]:
    """What is wrong with a `names` table: only the extra languages, each a non-empty text."""
    out = []
    for lang, text in names.items():
        if lang not in EXTRA:
            base = " (Chinese and English are 'name' and 'name_en')" if lang in BASE else ""
            out.append(f"unknown language '{lang}' in names (one of {', '.join(EXTRA)}){base}")
        elif not text.strip():
            out.append(f"names.{lang} must not be empty")
    return out


def all_names(name: str, name_en: str, names: Mapping[str, str] | None, langs: Iterable[str] = LANGS) -> dict[str, str]:
    """The name in each of `langs`: Chinese, English, and the others from `names`, else English (or Chinese)."""
    own = {"zh": name, "en": name_en or name, **(names or {})}
    return {lang: own.get(lang) or own["en"] for lang in langs}


def pick(names: Mapping[str, str], lang: str | None) -> str:
    """The name in `lang`, else English, else Chinese."""
    return names.get(lang or "en") or names.get("en") or names.get("zh") or ""


def negotiate(accept_language: str | None, offered: Iterable[str] = LANGS) -> str | None:
    """The first language of an `Accept-Language` header (by its q-values) that is offered, or None.

    Hand-written: a header is a comma list of `tag;q=x`, and we only need its primary subtags (ko-KR → ko);
    Babel's `negotiate_locale` takes an already-ordered list and no q-values, and nothing else here parses it.
    """
    offered = list(offered)
    ranked: list[tuple[float, int, str]] = []
    for i, part in enumerate((accept_language or "").split(",")[:32]):
        tag, _, params = part.strip().partition(";")
        q = 1.0
        for p in params.split(";"):
            key, _, value = p.strip().partition("=")
            if key.strip() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        primary = tag.strip().split("-")[0].lower()
        if primary in offered and q > 0:
            ranked.append((-q, i, primary))
    return min(ranked)[2] if ranked else None


def choose(lang: str | None, accept_language: str | None, offered: Iterable[str] = LANGS) -> str | None:
    """The citizen's language: an explicit `lang` that is offered, else the browser's, else None (zh + en)."""
    offered = list(offered)
    if lang and lang in offered:
        return lang
    return negotiate(accept_language, offered)
