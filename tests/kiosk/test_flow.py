"""The kiosk's take-a-number flow as a plain state machine: no window, no server, time passed in."""

from __future__ import annotations

import itertools

import pytest

from kiosk.flow import ELDER_FACTOR, IDLE_S, TICKET_S, Flow
from kiosk.strings import t

QUEUES = [
    {"code": "A", "name": "市场准入", "name_en": "Market access", "waiting": 3, "estimated_wait_s": 600},
    {"code": "B", "name": "投资建设", "name_en": "Investment", "waiting": 0, "estimated_wait_s": 0},
]
TICKET = {
    "id": 1,
    "number": "A004",
    "queue": "A",
    "lane": "special",
    "status": "waiting",
    "ahead": 3,
    "estimated_wait_s": 600,
    "issued_at": "2026-11-27T01:00:00Z",
    "track_token": "tok",
}
SENIOR_ID = "110101195001011234"


def flow(**kw: object) -> Flow:
    keys = (f"key-{i}" for i in itertools.count(1))
    f = Flow(new_key=lambda: next(keys), **kw)  # type: ignore[arg-type]
    f.set_domains(QUEUES)
    return f


def to_confirm(f: Flow, now: float = 0.0, card: str | None = None) -> None:
    f.take_number(now)
    f.choose_domain("A", now)
    if f.screen == "interpreter":  # a language other than Chinese: asked once
        f.answer_interpreter(True, now)
    if card:
        f.card_read(card, now)
    assert f.screen == "confirm"


def test_happy_path_with_a_card_sends_the_number_and_forgets_it_after_issuing() -> None:
    f = flow()
    f.take_number(0)
    assert f.screen == "domain"
    f.choose_domain("A", 1)
    assert f.screen == "confirm" and f.domain is not None and f.domain.code == "A"
    f.card_read(SENIOR_ID, 2)  # the card may come on the confirm screen too
    assert f.screen == "confirm" and f.id_number == SENIOR_ID
    req = f.confirm(3)
    assert req is not None and req.queue == "A" and req.id_number == SENIOR_ID and req.key == "key-1"
    assert f.screen == "issuing"
    assert f.issued(req.key, TICKET, 4)
    assert f.screen == "ticket" and f.ticket is not None and f.ticket.number == "A004"
    assert f.ticket.lane == "special"  # the server chose the special lane from the senior's card
    assert f.id_number is None
    f.printed("printed")
    assert f.print_state == "printed" and not f.show_qr and f.message == ""


def test_three_taps_without_a_card_and_back() -> None:
    f = flow()
    f.take_number(0)  # 1
    f.choose_domain("A", 0)  # 2
    assert f.screen == "confirm" and f.id_number is None
    assert f.confirm(1) is not None  # 3
    f = flow()
    to_confirm(f)
    f.back(1)
    assert f.screen == "domain" and f.domain is None
    f.back(2)
    assert f.screen == "home"


def test_a_card_on_the_home_screen_starts_take_a_number_with_it() -> None:
    f = flow()
    assert f.wants_card
    f.card_read(SENIOR_ID, 0)
    assert f.screen == "domain" and f.id_number == SENIOR_ID
    f.choose_domain("B", 1)
    req = f.confirm(2)
    assert req is not None and req.id_number == SENIOR_ID and req.queue == "B"
    assert not f.wants_card  # issuing: a card now means nothing
    f = flow()
    f.open_now = False  # the closed hall's screen: the card starts nothing
    assert not f.wants_card
    f.card_read(SENIOR_ID, 0)
    assert f.screen == "home" and f.id_number is None


def test_a_passport_starts_take_a_number_without_sending_its_number() -> None:
    f = flow()
    f.passport_read(0)  # on the home screen, as a card does
    assert f.screen == "domain" and f.passport and f.id_number is None
    f.choose_domain("B", 1)
    req = f.confirm(2)
    assert req is not None and req.id_number is None and req.queue == "B"  # the server would refuse the number
    assert f.issued(req.key, TICKET, 3) and not f.passport
    f = flow()
    to_confirm(f)
    f.passport_read(1)
    f.card_read(SENIOR_ID, 2)  # a card after the passport: the card's number goes with the ticket
    assert f.id_number == SENIOR_ID and not f.passport
    f.home(3)
    assert not f.passport


def test_unreadable_card_says_so_and_the_flow_goes_on() -> None:
    f = flow()
    f.take_number(0)
    f.choose_domain("B", 0)
    f.card_failed(1)
    assert f.screen == "confirm" and f.card_error
    f.card_read(SENIOR_ID, 2)
    assert f.screen == "confirm" and not f.card_error and f.id_number == SENIOR_ID


TWELVE = [
    {"code": c, "name": f"事项{c}", "name_en": f"Domain {c}", "waiting": 0, "estimated_wait_s": 0}
    for c in "ABCDEFGHJKLM"
]


@pytest.mark.parametrize(
    ("portrait", "elder", "grid", "pages"),
    [(False, False, (3, 2), 2), (False, True, (2, 2), 3), (True, False, (2, 4), 2), (True, True, (2, 3), 2)],
)
def test_twelve_domains_in_pages_every_visit_from_page_one(
    portrait: bool, elder: bool, grid: tuple[int, int], pages: int
) -> None:
    f = flow()
    f.portrait, f.elder = portrait, elder
    f.set_domains(TWELVE)
    f.take_number(0)
    assert f.grid == grid and f.pages == pages and f.page == 0
    seen: list[str] = []
    for _ in range(pages):
        assert len(f.page_domains) <= f.per_page
        seen += [d.code for d in f.page_domains]
        f.turn_page(1, 1)
    assert seen == list("ABCDEFGHJKLM")  # every domain once, in the hall's order (the comprehensive three first)
    assert f.page == pages - 1  # no page past the last
    f.turn_page(-1, 2)
    assert f.page == pages - 2
    f.choose_domain(f.page_domains[0].code, 3)
    f.home(4)
    f.take_number(5)
    assert f.page == 0  # the next visit starts on page one


def test_elder_mode_keeps_the_page_in_range() -> None:
    f = flow()
    f.set_domains(TWELVE)
    f.toggle_elder(0)
    f.take_number(0)
    f.turn_page(1, 0)
    f.turn_page(1, 0)
    assert f.page == 2
    f.toggle_elder(1)  # three pages of four become two of six
    assert f.page == 1 and f.page_domains[-1].code == "M"


def test_double_tap_issues_one_request() -> None:
    f = flow()
    to_confirm(f)
    first = f.confirm(1)
    assert first is not None
    assert f.confirm(1.05) is None  # the second tap of a double tap
    assert f.confirm(2) is None
    f.home(2.5)  # Home while issuing does not drop the answer that is on its way
    assert f.screen == "issuing"
    assert f.issued(first.key, TICKET, 3)
    assert f.confirm(4) is None  # a tap on the ticket screen asks for nothing


def test_a_late_answer_for_an_old_tap_is_ignored() -> None:
    f = flow()
    to_confirm(f)
    req = f.confirm(1)
    assert req is not None
    f.refused(req.key, "本中心已下班 / The hall is closed", 2)
    assert not f.issued(req.key, TICKET, 3)
    assert f.ticket is None and f.screen == "error"


def test_each_visit_of_confirm_gets_a_new_idempotency_key() -> None:
    f = flow()
    to_confirm(f)
    a = f.confirm(1)
    assert a is not None
    f.unreachable(a.key, 2)
    f.home(3)
    to_confirm(f, 4)
    b = f.confirm(5)
    assert b is not None and b.key != a.key


def test_server_errors_become_plain_sentences() -> None:
    f = flow()
    to_confirm(f)
    req = f.confirm(1)
    assert req is not None
    f.retrying(req.key)
    assert f.screen == "issuing" and f.message == t("unreachable", "zh") and "服务器" not in f.message
    f.lang = "en"
    f.retrying(req.key)
    assert f.message == t("unreachable", "en")
    sentence = "本中心已闭厅，将于 2026-11-30 09:00 开放 / The hall opens again on 2026-11-30 at 09:00"
    f.refused(req.key, sentence, 2)
    assert f.screen == "error" and f.message == sentence  # the server's own sentence, as it is


def test_paper_out_shows_the_ticket_with_its_qr_code_and_the_bilingual_message() -> None:
    f = flow()
    to_confirm(f)
    req = f.confirm(1)
    assert req is not None
    f.issued(req.key, TICKET, 2)
    assert f.print_state == "printing" and not f.show_qr
    f.printed("paper_out")
    assert f.show_qr
    assert f.message == (
        "打印机缺纸，请拍下屏幕上的号码，或到总服务台领取 / "
        "The printer is out of paper: photograph your number on screen, or ask at the general desk."
    )


def test_idle_timeout_clears_everything_personal() -> None:
    f = flow()
    f.toggle_lang(0)
    f.toggle_elder(0)
    to_confirm(f, 0, card=SENIOR_ID)
    limit = IDLE_S * ELDER_FACTOR
    assert f.seconds_left(1) == int(limit) - 1
    assert not f.tick(limit - 0.1)
    assert f.tick(limit)
    assert f.screen == "home"
    assert (f.domain, f.id_number, f.ticket, f.pending, f.message) == (None, None, None, None, "")
    assert (f.interpreter, f.id_type) == (None, "")
    assert (f.lang, f.elder) == ("zh", False)  # the next citizen starts from the default
    assert f.seconds_left(limit + 1) is None  # home waits forever


def test_ticket_screen_returns_home_after_its_own_timeout() -> None:
    f = flow()
    to_confirm(f)
    req = f.confirm(1)
    assert req is not None
    f.issued(req.key, TICKET, 2)
    f.printed("printed")
    assert f.seconds_left(2) == int(TICKET_S)
    assert f.tick(2 + TICKET_S)
    assert f.ticket is None and f.message == "" and not f.show_qr


@pytest.mark.parametrize("elder", [False, True])
def test_an_unprinted_ticket_stays_long_enough_to_photograph(elder: bool) -> None:
    f = flow()
    f.elder = elder
    to_confirm(f)
    req = f.confirm(1)
    assert req is not None
    f.issued(req.key, TICKET, 2)  # shown at 2
    f.printed("paper_out")  # the printer's answer comes later; the time counts from when it was shown
    hold = 90 if elder else 45
    assert f.seconds_left(2) == hold
    assert not f.tick(2 + hold - 0.5) and f.show_qr
    assert f.tick(2 + hold)


def test_no_timeout_while_issuing() -> None:
    f = flow()
    to_confirm(f)
    f.confirm(1)
    assert not f.tick(1 + 10 * IDLE_S) and f.screen == "issuing"


def test_touch_restarts_the_idle_timer() -> None:
    f = flow()
    f.take_number(0)
    f.touch(IDLE_S - 1)
    assert not f.tick(IDLE_S + 1)
    assert f.tick(2 * IDLE_S)


def test_elder_mode_larger_fewer_tiles_slower() -> None:
    f = flow()
    f.take_number(0)
    assert f.grid[0] == 3 and f.timeout_s() == IDLE_S
    f.toggle_elder(1)
    assert f.elder and f.grid[0] == 2 and f.timeout_s() == IDLE_S * ELDER_FACTOR
    f.toggle_elder(2)
    assert not f.elder


def test_language_switch_changes_every_text() -> None:
    f = flow()
    assert f.text("take_number") == "取号"
    assert f.domains[0].load("zh") == "等候 3 人 · 约 10 分钟"
    f.toggle_lang(0)
    assert f.text("take_number") == "Take a number"
    assert f.domains[0].label("en") == "Market access"
    assert f.domains[1].load("en") == "No wait" and f.domains[1].load("zh") == "无需等候"  # not "0 waiting"
    f.toggle_lang(1)
    assert f.lang == "ko" and f.text("take_number") == "번호표 뽑기"
    assert f.domains[0].label("ko") == f.domains[0].label("zh")  # the server names services in Chinese and English
    f.toggle_lang(2)
    assert f.lang == "ja" and f.text("take_number") == "番号札を取る"
    f.toggle_lang(3)
    assert f.lang == "ru" and f.text("take_number") == "Взять талон"
    f.toggle_lang(4)
    assert f.lang == "zh"


def test_an_interpreter_is_asked_once_in_another_language_and_goes_with_the_ticket() -> None:
    f = flow()
    f.set_hall({"open_now": True, "languages": ["zh", "en", "ko"]})
    f.lang = "ko"
    f.take_number(0)
    f.choose_domain("A", 1)
    assert f.screen == "interpreter"
    f.card_read(SENIOR_ID, 1, "foreign_permanent")  # a card may come while it asks
    f.answer_interpreter(True, 2)
    assert f.screen == "confirm" and f.interpreter_lang == "ko" and f.id_type == "foreign_permanent"
    f.back(3)
    f.choose_domain("B", 3)
    assert f.screen == "confirm"  # asked once a visit: another service, no second question
    req = f.confirm(4)
    assert req is not None and req.interpreter == "ko" and req.lang == "ko" and req.queue == "B"
    assert f.issued(req.key, TICKET | {"interpreter": "ko"}, 5)
    assert f.ticket is not None and f.ticket.interpreter == "ko" and f.id_type == ""
    f.home(6)
    f.take_number(7)
    f.choose_domain("A", 7)
    assert f.screen == "interpreter"  # the next citizen is asked again


@pytest.mark.parametrize(
    ("lang", "languages", "asks"),
    [("zh", ["zh", "en", "ko"], False), ("ja", ["zh", "en", "ko"], False), ("en", ["zh", "en"], True)],
)
def test_no_question_in_chinese_nor_in_a_language_the_hall_has_no_interpreter_in(
    lang: str, languages: list[str], asks: bool
) -> None:
    f = flow()
    f.set_hall({"open_now": True, "languages": languages})
    f.lang = lang
    f.take_number(0)
    f.choose_domain("A", 1)
    assert (f.screen == "interpreter") is asks
    if asks:
        f.answer_interpreter(False, 2)
    req = f.confirm(3)
    assert req is not None and req.interpreter is None


def test_a_passport_on_take_a_number_is_named_but_not_sent() -> None:
    f = flow()
    f.take_number(0)
    f.choose_domain("A", 1)
    f.passport_read(2)
    assert f.passport and f.id_type == "passport" and f.id_number is None
    req = f.confirm(3)
    assert req is not None and req.id_number is None
