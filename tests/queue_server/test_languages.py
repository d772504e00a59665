"""A hall's languages (issue 22): the `languages` key, the queues' `names`, the catalogue's names, and picking
the citizen's language from `lang` or Accept-Language."""

from __future__ import annotations

from pathlib import Path

import pytest

from queue_server.cases.catalog import load_catalog, missing_names, parse_item
from queue_server.config import ConfigError, load_config, parse_config
from queue_server.languages import all_names, choose, negotiate, pick

ROOT = Path(__file__).resolve().parents[2]
HALL = """\
[server]
demo = true

[[halls]]
code = "h1"
name = "一厅"
{languages}
  [[halls.queues]]
  code = "A"
  name = "市场准入"
  name_en = "Market access"
  {names_a}

  [[halls.queues]]
  code = "B"
  name = "社会事务"
  name_en = "Social affairs"
  {names_b}
"""


def hall(languages: str = "", names_a: str = "", names_b: str = "") -> str:
    return HALL.format(languages=languages, names_a=names_a, names_b=names_b)


def problems(text: str) -> list[str]:
    with pytest.raises(ConfigError) as info:
        parse_config(text, "hall.toml")
    return str(info.value).splitlines()


def test_default_is_chinese_and_english() -> None:
    h = parse_config(hall()).hall("h1")
    assert h.languages == ["zh", "en"]
    assert h.names_of("A") == {"zh": "市场准入", "en": "Market access"}


def test_a_hall_in_korean_names_its_queues_in_korean() -> None:
    text = hall('languages = ["zh", "en", "ko"]', 'names = { ko = "시장 진입" }', 'names = { ko = "사회 업무" }')
    h = parse_config(text).hall("h1")
    assert h.names_of("A") == {"zh": "市场准入", "en": "Market access", "ko": "시장 진입"}
    assert h.names_of("B")["ko"] == "사회 업무"


def test_a_queue_without_a_name_in_a_hall_language_names_the_line() -> None:
    a, b = 'names = { ko = "시장 진입", ru = "Рынок" }', 'names = { ko = "사회" }'
    text = hall('languages = ["zh", "en", "ko", "ru"]', a, b)
    assert problems(text) == [
        "hall.toml:18: halls[0].queues[1].names: queue 'B' has no name in 'ru', a language of this hall: add names.ru"
    ]


@pytest.mark.parametrize(
    ("languages", "message"),
    [
        ('["zh", "en", "fr"]', "unknown language 'fr' (languages are zh, en, ko, ja, ru)"),
        ('["en", "zh"]', 'must start with "zh", "en" (Chinese first, then English), e.g. ["zh", "en", "ko"]'),
        ('["zh", "en", "ko", "ko"]', "language 'ko' is listed twice"),
    ],
)
def test_bad_language_lists_are_refused(languages: str, message: str) -> None:
    names = 'names = { ko = "가" }'
    assert f"hall.toml:7: halls[0].languages: {message}" in problems(hall(f"languages = {languages}", names, names))


def test_names_carry_only_the_other_languages() -> None:
    lines = problems(hall(names_a='names = { en = "Market", ko = " " }'))
    assert lines == [
        "hall.toml:12: halls[0].queues[0].names: unknown language 'en' in names (one of ko, ja, ru)"
        " (Chinese and English are 'name' and 'name_en')",
        "hall.toml:12: halls[0].queues[0].names: names.ko must not be empty",
    ]


def test_the_demo_hall_speaks_five_languages_and_names_every_queue() -> None:
    demo = load_config(ROOT / "config" / "demo.toml").hall("demo")
    assert demo.languages == ["zh", "en", "ko", "ja", "ru"]
    for q in demo.queues:
        assert set(q.names) == {"ko", "ja", "ru"}, q.code


def test_the_catalogue_names_every_item_in_every_language_a_demo_hall_has() -> None:
    """Fails when an item file lacks a name (or its domain's) in a language a configured hall speaks."""
    config = load_config(ROOT / "config" / "demo.toml")
    languages = [lang for h in config.halls for lang in h.languages]
    assert "ko" in languages
    assert missing_names(load_catalog(ROOT / "config" / "items"), languages) == []


def test_a_missing_item_name_is_reported_and_english_is_served() -> None:
    path = ROOT / "config" / "items" / "06-shebaoka.toml"
    text = path.read_text(encoding="utf-8")
    lines = [x for x in text.splitlines() if not x.startswith("names = ")]
    item = parse_item("\n".join(lines), "06-shebaoka.toml")
    assert missing_names([item], ["zh", "en", "ko"]) == ["item SBYB-SBK-001 has no name in 'ko': add names.ko"]
    assert all_names(item.name, item.name_en, item.names)["ko"] == "Social security card application"
    full = parse_item(text, "06-shebaoka.toml")
    assert all_names(full.name, full.name_en, full.names)["ko"] == "사회보장카드 신청"


def test_an_item_names_only_known_languages() -> None:
    text = (ROOT / "config" / "items" / "13-fapiao.toml").read_text(encoding="utf-8")
    with pytest.raises(ConfigError, match="unknown language 'de' in names"):
        parse_item(text.replace('names = { ko = "', 'names = { de = "Rechnung", ko = "', 1), "13-fapiao.toml")


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("ko-KR,ko;q=0.9,en-US;q=0.8,en;q=0.7", "ko"),
        ("en;q=0.5, ru-RU", "ru"),
        ("ja-JP", "ja"),
        ("fr-FR, de;q=0.9", None),
        ("zh-CN,zh;q=0.9", "zh"),
        ("ko;q=0, en", "en"),
        ("", None),
        (None, None),
        ("ko;q=abc, ja;q=0.2", "ja"),
    ],
)
def test_accept_language(header: str | None, expected: str | None) -> None:
    assert negotiate(header) == expected


def test_an_explicit_language_wins_when_the_hall_offers_it() -> None:
    assert choose("ru", "ko-KR", ["zh", "en", "ko"]) == "ko"
    assert choose("ko", "ru", ["zh", "en", "ko"]) == "ko"
    assert choose(None, "ja", ["zh", "en"]) is None
    assert pick({"zh": "中", "en": "E", "ko": "K"}, "ja") == "E"
    assert pick({"zh": "中", "en": "E", "ko": "K"}, "ko") == "K"
