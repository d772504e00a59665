"""The server's own texts to citizens in 한국어, 日本語, Русский (queue_server/citizen_text.py, the gettext
catalogues in queue_server/locale): complete, with the right placeholders, and used by the phone messages and
refusals."""

from __future__ import annotations

import string
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from babel.messages.pofile import read_po

from queue_server.calendar import Calendar
from queue_server.citizen_text import KEYS, OTHER_LANGS, po_path, second
from queue_server.notify import messages


def fields(text: str) -> set[str]:
    return {name for _lit, name, _spec, _conv in string.Formatter().parse(text) if name}


@pytest.mark.parametrize("lang", OTHER_LANGS)
def test_every_key_in_every_language_with_its_placeholders(lang: str) -> None:
    with po_path(lang).open("rb") as f:
        cat = read_po(f)
    texts = {str(m.id): str(m.string) for m in cat if m.id}
    assert set(texts) == set(KEYS), lang
    for key, text in texts.items():
        assert text.strip(), f"{lang}: {key} is empty"
        assert fields(text) == set(KEYS[key]), f"{lang}: {key} has {sorted(fields(text))}"
    header = po_path(lang).read_text(encoding="utf-8").split("msgid", 1)[0]
    assert "How the terms were checked" in header


def test_phone_messages_in_the_ticket_language_chinese_first() -> None:
    assert messages.called("A023", 3, lang="ko") == "请A023号到3号窗口办理 / A023번 고객님, 3번 창구로 오세요"
    assert messages.called("A023", 3, lang="ru") == "请A023号到3号窗口办理 / Талон A023, пройдите к окну 3"
    assert messages.called("A023", 3) == "请A023号到3号窗口办理 / Ticket A023, please go to window 3"
    assert messages.called("A023", 3, lang="fr") == messages.called("A023", 3)
    text = messages.issued("威海市政务服务中心", "A023", 4, 12, hall_en="Weihai Centre", lang="ja")
    assert text.startswith("您已在威海市政务服务中心取号A023，前面还有4人，预计等候约12分钟")
    assert text.endswith(
        " / Weihai Centreの番号札 A023 番: あと 4 人、待ち時間は約 12 分です。呼び出しにご注意ください。"
    )
    assert messages.ahead("A023", 0, lang="ko").endswith("A023번: 다음 차례입니다. 대기실에서 호출을 기다려 주세요.")
    assert messages.no_show("A023", lang="ru").startswith("A023号叫号未到，已过号。")


def test_the_closed_refusal_names_the_next_opening_in_the_language() -> None:
    tz = ZoneInfo("Asia/Shanghai")
    cal = Calendar.build(tz, ["mon-fri 09:00-17:00"])
    sunday = datetime(2026, 12, 6, 10, 0, tzinfo=tz)
    assert cal.closed_sentence(sunday, "ko") == (
        "大厅现在不办理业务，下次开放时间：2026-12-07 09:00 / "
        "지금은 업무 시간이 아닙니다. 다음 업무 시작: 2026-12-07 09:00"
    )
    assert cal.closed_sentence(sunday).endswith("/ The hall is closed; it opens again on 2026-12-07 at 09:00")
    assert second("ja", "closed_until_notice", "x") == "お知らせがあるまで受付を休止しています"
