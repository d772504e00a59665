"""The kiosk's appointment check-in as a plain state machine: code keypad, QR payloads, ID card, answers."""

from __future__ import annotations

import itertools

from kiosk.checkin import CheckIn
from kiosk.flow import IDLE_S, Flow, parse_qr, valid_code
from kiosk.strings import t

TICKET = {
    "id": 7,
    "number": "A001",
    "queue": "A",
    "lane": "appointment",
    "ahead": 0,
    "estimated_wait_s": 0,
    "issued_at": "2026-11-27T01:00:00Z",
    "track_token": "tok",
    "appointment": "ABCD2345",
    "note": "",
}


def flow() -> Flow:
    keys = (f"key-{i}" for i in itertools.count(1))
    return Flow(new_key=lambda: next(keys))


def test_qr_payloads_and_codes() -> None:
    assert parse_qr("HALLAPPT:ABCD2345") == "ABCD2345"
    assert parse_qr(" HALLAPPT:abcd2345\r") == "ABCD2345"  # a scanner's stray whitespace, lower case
    for bad in ("ABCD2345", "HALLAPPT:", "HALLAPPT:ABCD234", "HALLAPPT:ABCD23450", "HALLAPPT:ABCDO345", "http://x"):
        assert parse_qr(bad) is None, bad
    assert valid_code("XYZ98765") and not valid_code("IOIO1010")


def test_typing_the_code_with_backspace_then_checking_in() -> None:
    f = flow()
    c = CheckIn(f)
    c.check_in(0)
    assert f.screen == "checkin" and f.code == ""
    for ch in "ab1I0O":  # 1, I, 0, O are not in the alphabet
        c.key(ch, 1)
    assert f.code == "AB"
    assert c.submit_code(2) is None and f.message == t("code_incomplete", "zh") and f.screen == "checkin"
    c.key("X", 3)
    c.backspace(3)
    c.key("C", 3)
    c.key("D2345", 3)  # one key is one character
    for ch in "D2345ZZ":  # the ninth character and beyond are ignored
        c.key(ch, 4)
    assert f.code == "ABCD2345" and f.message == ""
    req = c.submit_code(5)
    assert req is not None and req.code == "ABCD2345" and req.id_number is None and req.key == "key-1"
    assert f.screen == "checking" and f.code == ""
    assert c.submit_code(6) is None  # a double tap sends nothing
    assert f.timeout_s() is None  # waits for the server
    f.home(7)
    assert f.screen == "checking"  # the answer must be shown, not dropped
    assert c.checked_in("other", TICKET, 8) is False
    assert c.checked_in("key-1", TICKET, 8) is True
    assert f.screen == "ticket" and f.ticket is not None and f.ticket.lane == "appointment" and f.note == ""
    assert f.print_state == "printing"


def test_back_clears_the_code_first_then_goes_home() -> None:
    f = flow()
    c = CheckIn(f)
    c.check_in(0)
    c.key("A", 0)
    f.back(1)
    assert f.screen == "checkin" and f.code == ""
    f.back(2)
    assert f.screen == "home"


def test_a_scanned_qr_code_checks_in_and_a_late_note_is_kept() -> None:
    f = flow()
    c = CheckIn(f)
    c.scanned("HALLAPPT:ABCD2345", 0)
    assert f.screen == "home"  # scans are ignored off the check-in screen
    c.check_in(0)
    assert c.scanned("A004", 1) is None and f.message == t("qr_invalid", "zh")
    req = c.scanned("HALLAPPT:ABCD2345", 2)
    assert req is not None and req.code == "ABCD2345"
    note = "您已迟到超过15分钟，已为您取普通号 / You are more than 15 minutes late, so this is an ordinary ticket"
    assert c.checked_in(req.key, TICKET | {"lane": "normal", "note": note}, 3)
    assert f.note == note and f.ticket is not None and f.ticket.lane == "normal"
    f.tick(3 + 100)  # the ticket screen's timeout forgets the note too
    assert f.screen == "home" and f.note == "" and f.ticket is None


def test_the_id_card_checks_in_and_a_refusal_offers_an_ordinary_number() -> None:
    f = flow()
    c = CheckIn(f)
    f.toggle_lang(0)
    c.check_in(0)
    assert f.screen == "interpreter"  # in English, take-a-number's question first (the hall offers English)
    f.answer_interpreter(False, 0)
    req = c.checkin_card("110101195001011234", 1)
    assert req is not None and req.code is None and req.id_number == "110101195001011234"
    assert (req.lang, req.interpreter) == ("en", None)
    f.retrying(req.key)
    assert f.message == t("unreachable", "en")
    sentence = "今天没有找到您的预约 / No appointment found for you today"
    c.check_in_refused(req.key, sentence, 2)
    assert f.screen == "error" and f.message == sentence and f.offer_take
    f.take_number(3)  # the alternative: an ordinary number, same language
    assert f.screen == "domain" and f.lang == "en" and not f.offer_take and f.message == ""


def test_an_unconfirmed_check_in_says_ask_the_desk_without_offering_a_number() -> None:
    f = flow()
    c = CheckIn(f)
    c.check_in(0)
    req = c.scanned("HALLAPPT:ABCD2345", 0)
    assert req is not None
    c.check_in_unreachable(req.key, 1)
    assert f.screen == "error" and f.message == t("checkin_gave_up", "zh") and not f.offer_take
    f.take_number(2)
    assert f.screen == "error"  # a number might duplicate a check-in that went through
    assert f.tick(2 + IDLE_S)
    assert f.screen == "home" and f.checkin is None


def test_the_check_in_screen_times_out_and_forgets_the_code() -> None:
    f = flow()
    c = CheckIn(f)
    c.check_in(0)
    c.key("A", 0)
    assert f.seconds_left(10) == IDLE_S - 10
    assert f.tick(IDLE_S)
    assert f.screen == "home" and f.code == ""


def test_in_korean_check_in_asks_for_an_interpreter_once_and_sends_it() -> None:
    f = flow()
    f.languages = ("zh", "en", "ko")
    c = CheckIn(f)
    f.toggle_lang(0)
    f.toggle_lang(0)
    assert f.lang == "ko"
    c.check_in(0)
    assert f.screen == "interpreter" and f.checkin_asking and not f.wants_card  # the card is not take-a-number's
    f.back(1)
    assert f.screen == "home"  # Back from the question: home, nothing kept
    c.check_in(2)
    f.answer_interpreter(True, 3)
    assert f.screen == "checkin"
    for ch in "ABCD2345":
        c.key(ch, 4)
    req = c.submit_code(5)
    assert req is not None and (req.code, req.lang, req.interpreter) == ("ABCD2345", "ko", "ko")


def test_in_chinese_or_a_language_without_interpreters_check_in_asks_nothing() -> None:
    for presses, languages in ((0, ("zh", "en", "ko")), (2, ("zh", "en"))):
        f = flow()
        f.languages = languages
        c = CheckIn(f)
        for _ in range(presses):
            f.toggle_lang(0)
        c.check_in(0)
        assert f.screen == "checkin"
        req = c.checkin_card("110101195001011234", 1)
        assert req is not None and req.interpreter is None and req.lang == f.lang
