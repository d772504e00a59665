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


def test_the_rejoin_rule_in_the_ticket_language_chinese_first() -> None:
    """The rule's sentence and refusals (rejoin.py) built from citizen.po's parts; English as before without one."""
    from queue_server.rejoin import RejoinRule

    plain = RejoinRule()
    assert (
        plain.sentence()
        == "过号后当天可到总服务台重新排队，排在队尾。 / Ask at the information desk today to rejoin, at the back."
    )
    assert plain.sentence("fr") == plain.sentence()
    assert plain.sentence("ko") == (
        "过号后当天可到总服务台重新排队，排在队尾。 / "
        "오늘 중에 종합안내데스크에 말씀하시면 다시 줄을 설 수 있습니다. 대기열 맨 뒤에 서게 됩니다."
    )
    strict = RejoinRule(lanes=frozenset({"normal", "appointment"}), times=2, within_min=30, place=3)
    zh = strict.sentence_zh()
    assert strict.sentence().startswith(zh + " / Ask at the information desk within 30 min")
    assert strict.sentence("ja") == (
        f"{zh} / 呼び出しから 30 分以内に総合案内にお申し出いただければ並び直せます（一般・予約の番号札のみ）。"
        "先頭から 3 人目の方の後ろに並びます（番号札 1 枚につき 2 回まで）。"
    )
    assert strict.sentence("ru") == (
        f"{zh} / Чтобы вернуться в очередь, обратитесь к справочной стойке в течение 30 мин после пропущенного "
        "вызова (только талоны категорий: обычный, по записи): вы встанете после 3-го ожидающего, не более 2 раз(а) "
        "на один талон."
    )
    now = datetime(2026, 12, 7, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    assert strict.refusal(lane="vip", rejoins=0, missed_at=now, now=now, lang="ko") == (
        "重点项目票过号后不能重新排队，请重新取号 / 호출을 놓친 중점 사업 번호표는 다시 줄을 설 수 없습니다. "
        "번호표를 새로 뽑아 주세요"
    )
    assert strict.refusal(lane="normal", rejoins=2, missed_at=now, now=now, lang="ru") == (
        "本票已重新排队 2 次（上限 2 次），请重新取号 / Этот талон уже возвращали в очередь 2 раз(а) (не более 2): "
        "возьмите новый талон"
    )
    assert strict.refusal(lane="normal", rejoins=0, missed_at=now, now=now, lang="ja") is None
    assert (
        RejoinRule(lanes=frozenset())
        .sentence("ja")
        .endswith(" / 当センターでは、呼び出しに間に合わなかった場合は並び直しできません。番号札を取り直してください。")
    )


def test_appointment_case_and_code_messages_in_the_language_secret_values_marked() -> None:
    slot = datetime(2026, 12, 7, 9, 30)
    text = messages.appointment_booked("威海中心", slot, "K7Q2", hall_en="Weihai Centre", lang="ko")
    assert text.startswith("您已预约威海中心 12月7日 09:30办理业务")
    assert text.endswith(
        f" / Weihai Centre 예약 완료: 2026-12-07 09:30, 예약번호 {messages.secret('K7Q2')}. "
        "예약번호나 신분증으로 접수해 주세요."
    )
    assert messages.appointment_booked("威海中心", slot, "K7Q2").endswith("Check in with the code or your ID card.")
    text = messages.verify_code("威海中心", "123456", 5, hall_en="Weihai Centre", lang="ja")
    assert text.endswith(
        f"Weihai Centreのリモート番号札の確認コードは {messages.secret('123456')} です（5 分間有効）。"
        "お心当たりのない場合は無視してください。"
    )
    assert "онлайн-заявки" in messages.verify_code("威海中心", "123456", 5, purpose="case", lang="ru")
    text = messages.case_prereview("威海中心", "C1", "食品经营许可", False, lang="ru")
    assert text.startswith("您在威海中心网上申报的食品经营许可（办件编号C1）需要修改")
    assert "Вашу онлайн-заявку C1 в 威海中心 нужно исправить" in text
    assert messages.feedback_reply("A023", "已改进", lang="ko") == (
        "关于您的评价或投诉（A023）的答复：已改进 / 고객님의 평가 또는 민원(A023)에 대한 답변: 已改进"
    )
    assert messages.case_ready("威海中心", "C1", "食品经营许可", "88", lang="ja").count(messages.secret("88")) == 2
