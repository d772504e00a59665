"""Texts of the messages to citizens' phones: Chinese first, then English, joined by " / " — for a ticket taken in
한국어, 日本語 or Русский (`lang`), that language instead of English (queue_server/citizen_text.py).

Pure functions of plain values; they never see a phone number. Slot times are formatted as given, so
pass them in the hall's time zone.

A value in a text that opens something for whoever reads it (a pickup code, a booking code, a
verification code) goes through `secret(value)`: only the citizen's channel carries it; the outbox keeps
it apart from the text staff see, where it is masked (outbox.py).
"""

from __future__ import annotations

from datetime import datetime
from typing import Final

from ..citizen_text import both as _in

__all__ = [
    "KINDS",
    "PARAMS",
    "ahead",
    "appointment_booked",
    "appointment_cancelled",
    "appointment_reminder",
    "called",
    "case_prereview",
    "case_ready",
    "feedback_reply",
    "issued",
    "no_show",
    "recalled",
    "slot_param",
    "verify_code",
]

KINDS: Final = (
    "issued",
    "ahead",
    "called",
    "recalled",
    "no_show",
    "appointment_booked",
    "appointment_reminder",
    "appointment_cancelled",
    "feedback_reply",  # a bad review's or a complaint's answer (queue_server/feedback)
    "case_ready",  # a case's result can be collected (queue_server/cases)
    "case_prereview",  # a web case passed or was returned by 网上预审 (queue_server/cases/prereview.py)
    "verify_code",  # a one-time code proving the phone before a remote ticket (queue_server/notify/verify.py)
)

# The values each kind's message carries, by name: what a template SMS (Alibaba Cloud, Tencent Cloud) or a
# WeChat subscription message fills its registered template with (`[notify.templates.<kind>] params`), since
# those services send a template they approved, never our text. Values marked `secret` stay secret there too.
PARAMS: Final[dict[str, tuple[str, ...]]] = {
    "issued": ("hall", "number", "ahead", "minutes"),
    "ahead": ("number", "ahead"),
    "called": ("number", "window"),
    "recalled": ("number", "window"),
    "no_show": ("number",),
    "appointment_booked": ("hall", "time", "code"),
    "appointment_reminder": ("hall", "time", "code"),
    "appointment_cancelled": ("hall", "time", "code"),
    "feedback_reply": ("reference", "answer"),
    "case_ready": ("hall", "case_no", "matter", "code"),
    "case_prereview": ("hall", "case_no", "matter", "result"),
    "verify_code": ("hall", "code", "minutes"),
}

SECRET_OPEN: Final = "\ue000"  # noqa: S105 (private-use characters, never in a real text: a marker)
SECRET_CLOSE: Final = "\ue001"  # noqa: S105


def secret(value: str) -> str:
    """Mark a value of a text as secret: sent to the citizen, masked wherever staff or logs see the text."""
    return f"{SECRET_OPEN}{value}{SECRET_CLOSE}"


_MONTHS: Final = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _people(n: int) -> str:
    return "1 person" if n == 1 else f"{n} people"


def _minutes(n: int) -> str:
    return "1 minute" if n == 1 else f"{n} minutes"


def _slot_zh(at: datetime) -> str:
    return f"{at.month}月{at.day}日 {at:%H:%M}"


def _slot_en(at: datetime) -> str:
    return f"{at.day} {_MONTHS[at.month - 1]} {at:%H:%M}"


def slot_param(at: datetime) -> str:
    """A slot's start as a template parameter ("2026-12-07 09:30", in the time zone given)."""
    return f"{at:%Y-%m-%d %H:%M}"


def issued(
    hall: str, number: str, ahead: int, minutes: int | None, *, hall_en: str = "", lang: str | None = None
) -> str:
    """Ticket taken: its number, how many are ahead, and the estimated wait (None: no estimate)."""
    en_hall = hall_en or hall
    if ahead <= 0:
        zh_wait, en_wait = "前面没有人等候", "nobody is ahead of you"
    else:
        zh_wait, en_wait = f"前面还有{ahead}人", f"{_people(ahead)} ahead of you"
    zh_est = en_est = ""
    m = max(1, minutes or 0)
    if minutes is not None and ahead > 0:
        zh_est, en_est = f"，预计等候约{m}分钟", f", about {_minutes(m)} to wait"
    key = "sms_issued_next" if ahead <= 0 else ("sms_issued_wait" if zh_est else "sms_issued")
    return _in(
        f"您已在{hall}取号{number}，{zh_wait}{zh_est}，请留意叫号。",
        f"Your number at {en_hall} is {number}; {en_wait}{en_est}. Please watch for your call.",
        lang,
        key,
        hall=en_hall,
        number=number,
        ahead=ahead,
        minutes=m,
    )


def ahead(number: str, ahead: int, *, lang: str | None = None) -> str:
    """The "N ahead" message, so a citizen away from the hall can time the way back."""
    if ahead <= 0:
        return _in(
            f"{number}号：下一位就是您，请到大厅候叫。",
            f"Ticket {number}: you are next; please wait in the hall.",
            lang,
            "sms_ahead_next",
            number=number,
        )
    return _in(
        f"{number}号：您前面还有{ahead}人，请及时返回大厅候叫。",
        f"Ticket {number}: {_people(ahead)} ahead of you; please come back to the hall in time.",
        lang,
        "sms_ahead",
        number=number,
        ahead=ahead,
    )


def called(number: str, window: int | str, *, lang: str | None = None) -> str:
    """Called to a window: "请A023号到3号窗口办理 / Ticket A023, please go to window 3"."""
    zh, en = f"请{number}号到{window}号窗口办理", f"Ticket {number}, please go to window {window}"
    return _in(zh, en, lang, "sms_called", number=number, window=window)


def recalled(number: str, window: int | str, *, lang: str | None = None) -> str:
    """Called again to the same window."""
    return _in(
        f"再次呼叫：请{number}号到{window}号窗口办理",
        f"Calling again: ticket {number}, please go to window {window}",
        lang,
        "sms_recalled",
        number=number,
        window=window,
    )


def no_show(number: str, *, lang: str | None = None) -> str:
    """Called and absent: the ticket is closed as a no-show."""
    return _in(
        f"{number}号叫号未到，已过号。如需办理，请重新取号。",
        f"Ticket {number} was called but nobody came, so it has lapsed. "
        "Please take a new number if you still need service.",
        lang,
        "sms_no_show",
        number=number,
    )


def _appointment(key: str, zh: str, en: str, lang: str | None, hall: str, slot: datetime, code: str) -> str:
    """An appointment's message: the Chinese and English given, or `key` in `lang` with hall, slot and code."""
    return _in(zh, en, lang, key, hall=hall, time=slot_param(slot), code=secret(code))


def appointment_booked(hall: str, slot: datetime, code: str, *, hall_en: str = "", lang: str | None = None) -> str:
    """Booking confirmed: the hall, the slot's start and the booking code for check-in."""
    return _appointment(
        "appointment_booked",
        f"您已预约{hall} {_slot_zh(slot)}办理业务，预约码{secret(code)}。请凭预约码或身份证签到。",
        f"Booked: {hall_en or hall}, {_slot_en(slot)}, booking code {secret(code)}. "
        "Check in with the code or your ID card.",
        lang,
        hall_en or hall,
        slot,
        code,
    )


def appointment_reminder(hall: str, slot: datetime, code: str, *, hall_en: str = "", lang: str | None = None) -> str:
    """Reminder before the slot."""
    return _appointment(
        "appointment_reminder",
        f"提醒：您预约的{hall}业务将于{_slot_zh(slot)}开始，预约码{secret(code)}，请提前到达签到。",
        f"Reminder: your appointment at {hall_en or hall} is at {_slot_en(slot)}, code {secret(code)}. "
        "Please arrive a little early and check in.",
        lang,
        hall_en or hall,
        slot,
        code,
    )


def appointment_cancelled(hall: str, slot: datetime, code: str, *, hall_en: str = "", lang: str | None = None) -> str:
    """The appointment was cancelled."""
    zh = f"您预约的{hall} {_slot_zh(slot)}业务（预约码{secret(code)}）已取消。"
    en = f"Your appointment at {hall_en or hall} on {_slot_en(slot)} (code {secret(code)}) is cancelled."
    return _appointment("appointment_cancelled", zh, en, lang, hall_en or hall, slot, code)


def case_ready(hall: str, case_no: str, matter: str, code: str, *, hall_en: str = "", lang: str | None = None) -> str:
    """A case's result is ready: where to collect it, and the one-time pickup code of the 24-hour terminals."""
    return _in(
        f"您在{hall}办理的{matter}（办件编号{case_no}）已办结，请凭身份证到统一出件窗口领取，"
        f"或在24小时自助终端输入取件码{secret(code)}领取，也可申请免费邮寄。",
        f"Your case {case_no} at {hall_en or hall} is complete. Collect the result at the output window with your "
        f"ID card, or at a 24-hour self-service terminal with pickup code {secret(code)}, or ask for free mailing.",
        lang,
        "case_ready",
        hall=hall_en or hall,
        case_no=case_no,
        code=secret(code),
    )


def case_prereview(
    hall: str, case_no: str, matter: str, passed: bool, *, hall_en: str = "", lang: str | None = None
) -> str:
    """A web case's pre-review (网上预审): passed (book a time to come), or returned with a notice to read."""
    if passed:
        return _in(
            f"您在{hall}网上申报的{matter}（办件编号{case_no}）已通过预审，请在网上申报页面预约到窗口办理的时间，"
            "并携带本人身份证原件。",
            f"Your online application {case_no} at {hall_en or hall} passed pre-review: book a time on the "
            "application page and bring your ID card.",
            lang,
            "case_prereview_passed",
            hall=hall_en or hall,
            case_no=case_no,
        )
    return _in(
        f"您在{hall}网上申报的{matter}（办件编号{case_no}）需要修改，请在网上申报页面查看一次性告知并重新提交。",
        f"Your online application {case_no} at {hall_en or hall} needs changes: read the notice on the "
        "application page and submit again.",
        lang,
        "case_prereview_returned",
        hall=hall_en or hall,
        case_no=case_no,
    )


def feedback_reply(reference: str, text: str, *, lang: str | None = None) -> str:
    """Staff's answer to a bad review (reference: the ticket number) or a complaint (its code), as written."""
    return _in(
        f"关于您的评价或投诉（{reference}）的答复：{text}",
        f"Reply about your feedback ({reference}): {text}",
        lang,
        "feedback_reply",
        reference=reference,
        text=text,
    )


# What a one-time code proves the phone for: (Chinese, English) of "您正在{hall}…" / "Your code to … at {hall}".
CODE_PURPOSES = {
    "ticket": ("远程取号", "take a number"),
    "case": ("网上申报办件", "apply online"),
}


def verify_code(
    hall: str, code: str, minutes: int, *, hall_en: str = "", purpose: str = "ticket", lang: str | None = None
) -> str:
    """The one-time code that proves a phone (通办取号, 网上申报); marked secret: staff never see it."""
    zh, en = CODE_PURPOSES[purpose]
    return _in(
        f"您正在{hall}{zh}，验证码{secret(code)}，{minutes}分钟内有效。如非本人操作，请忽略。",
        f"Your code to {en} at {hall_en or hall} is {secret(code)}, valid for {minutes} minutes. "
        "If you did not ask for it, ignore this message.",
        lang,
        f"verify_code_{purpose}",
        hall=hall_en or hall,
        code=secret(code),
        minutes=minutes,
    )
