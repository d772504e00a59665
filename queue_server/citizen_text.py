"""What the server itself says to citizens, in their language (issue 22): the messages to their phones about their
ticket and the refusals of a number, Chinese first and then English — or 한국어, 日本語, Русский when the ticket (the
kiosk's language at issue) or the request (`lang`, Accept-Language) says so.

The Chinese and English texts stay where they are written (notify/messages.py, the services); the other languages
are gettext catalogues, `queue_server/locale/<lang>/LC_MESSAGES/citizen.po` (msgid: a key such as `sms_called`,
msgstr: the text with the same {placeholders}), read as they are with Babel's `read_po`, like the kiosk's. A key or
language without a text falls back to English; tests/queue_server/test_citizen_text.py fails on a missing one.
"""

from __future__ import annotations

from pathlib import Path

from peripherals.documents.text import Catalogues

LOCALE_DIR = Path(__file__).with_name("locale")
DOMAIN = "citizen"
OTHER_LANGS = ("ko", "ja", "ru")
# Every key with the {placeholders} its text takes.
KEYS: dict[str, frozenset[str]] = {
    "sms_issued": frozenset({"hall", "number", "ahead"}),
    "sms_issued_wait": frozenset({"hall", "number", "ahead", "minutes"}),
    "sms_issued_next": frozenset({"hall", "number"}),
    "sms_ahead": frozenset({"number", "ahead"}),
    "sms_ahead_next": frozenset({"number"}),
    "sms_called": frozenset({"number", "window"}),
    "sms_recalled": frozenset({"number", "window"}),
    "sms_no_show": frozenset({"number"}),
    "daily_cap": frozenset({"queue", "cap"}),
    "closed": frozenset({"day", "time"}),
    "closed_until_notice": frozenset(),
    # the no-show rejoin rule (rejoin.py): refusals, and the rule's sentence built from its parts
    "rejoin_nobody": frozenset(),
    "rejoin_lane": frozenset({"lane"}),
    "rejoin_times": frozenset({"rejoins", "times"}),
    "rejoin_late": frozenset({"minutes"}),
    "rule_nobody": frozenset(),
    "rule": frozenset({"when", "who", "where", "times"}),
    "rule_today": frozenset(),
    "rule_within": frozenset({"minutes"}),
    "rule_back": frozenset(),
    "rule_places": frozenset({"places"}),
    "rule_times": frozenset({"times"}),
    "rule_who": frozenset({"lanes"}),
    "list_sep": frozenset(),
    "lane_normal": frozenset(),
    "lane_military": frozenset(),
    "lane_special": frozenset(),
    "lane_vip": frozenset(),
    "lane_appointment": frozenset(),
    # appointments, cases, feedback, one-time codes (notify/messages.py); remote tickets (services/remote.py)
    "appointment_booked": frozenset({"hall", "time", "code"}),
    "appointment_reminder": frozenset({"hall", "time", "code"}),
    "appointment_cancelled": frozenset({"hall", "time", "code"}),
    "case_ready": frozenset({"hall", "case_no", "code"}),
    "case_prereview_passed": frozenset({"hall", "case_no"}),
    "case_prereview_returned": frozenset({"hall", "case_no"}),
    "feedback_reply": frozenset({"reference", "text"}),
    "verify_code_ticket": frozenset({"hall", "code", "minutes"}),
    "verify_code_case": frozenset({"hall", "code", "minutes"}),
    "remote_wrong_code": frozenset(),
    "remote_cap": frozenset({"queue", "cap"}),
    # appointments' refusals and the late check-in's note (services/appointments.py)
    "appt_none": frozenset({"queue"}),
    "appt_not_slot": frozenset({"time"}),
    "appt_begun": frozenset(),
    "appt_too_far": frozenset({"days"}),
    "appt_full": frozenset(),
    "appt_twice": frozenset(),
    "appt_not_found": frozenset(),
    "appt_no_cancel": frozenset({"status"}),
    "appt_no_reschedule": frozenset({"status"}),
    "appt_no_check_in": frozenset({"status"}),
    "appt_early": frozenset({"time", "slot"}),
    "appt_late": frozenset({"minutes"}),
    "appt_none_today": frozenset(),
    # complaints' and evaluations' refusals (feedback/complaints.py, feedback/evaluations.py)
    "fb_too_short": frozenset(),
    "fb_complaint_not_found": frozenset(),
    "ev_level": frozenset(),
    "ev_no_ticket": frozenset(),
    "ev_not_done": frozenset(),
    "ev_twice": frozenset({"number"}),
    "ev_no_case": frozenset(),
    "ev_case_open": frozenset(),
    "ev_case_twice": frozenset(),
}


CATALOGUES = Catalogues(LOCALE_DIR, DOMAIN, OTHER_LANGS)
po_path = CATALOGUES.po_path  # the catalogue file of a language
catalogue = CATALOGUES.texts  # every text of a language by key (empty for a language without a catalogue)


def second(lang: str | None, key: str, en: str, **fields: object) -> str:
    """The second half of a "中文 / …" text: `key` in `lang` (ko, ja, ru) filled with `fields`, else `en`."""
    return CATALOGUES.second(lang, key, en, **fields)


def both(zh: str, en: str, lang: str | None, key: str, **fields: object) -> str:
    """ "中文 / English", or "中文 / 한국어" (日本語, Русский) when `lang` is one of them."""
    return f"{zh} / {second(lang, key, en, **fields)}"
