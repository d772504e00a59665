"""Every citizen-facing kiosk string, in Chinese and English (one catalogue; the .kv file holds none)."""

from __future__ import annotations

from typing import Literal

Lang = Literal["zh", "en"]

CATALOGUE: dict[str, tuple[str, str]] = {
    "take_number": ("取号", "Take a number"),
    "take_number_hint": ("选择办理事项，领取排队号", "Choose a service and get a queue number"),
    "choose_domain": ("请选择办理事项", "Choose a service"),
    "waiting": ("等候 {n} 人", "{n} waiting"),
    "wait_min": ("约 {m} 分钟", "about {m} min"),
    "wait_none": ("无需等候", "no wait"),
    "paused": ("暂停取号，请到服务台", "Ticketing paused, please go to the service desk"),
    "printer_down": (
        "暂时不能打印号票：取号后请拍下屏幕上的号码",
        "Tickets cannot be printed now: photograph your number on the screen",
    ),
    "no_wait": ("无需等候", "No wait"),
    "page_prev": ("上一页", "Previous"),
    "page_next": ("下一页", "Next"),
    "page_of": ("第 {m} 页，共 {n} 页", "Page {m} of {n}"),
    "confirm_card_hint": (
        "可选：将身份证放在读卡区，70 岁及以上的长辈进入优先通道",
        "Optional: place your ID card on the reader; citizens aged 70 or over get the priority lane",
    ),
    "home_card_hint": ("请将身份证放在读卡区，可快速取号", "Place your ID card on the reader to take a number quickly"),
    "loading_queues": ("正在读取排队信息…", "Loading the queues…"),
    "id_title": ("请将身份证放在读卡区", "Place your ID card on the reader"),
    "id_hint": (
        "可选：70 岁及以上的长辈自动进入优先通道",
        "Optional: citizens aged 70 or over get the priority lane automatically",
    ),
    "id_reading": ("正在读卡…", "Reading the card…"),
    "id_read_ok": ("已读取身份证", "ID card read"),
    "id_unreadable": ("未能读取身份证，请重试或跳过", "The card could not be read: try again or skip"),
    "retry": ("重试", "Try again"),
    "skip": ("跳过", "Skip"),
    "confirm_title": ("请确认", "Please confirm"),
    "confirm_service": ("办理事项：{name}", "Service: {name}"),
    "confirm_with_card": ("已读取身份证", "With your ID card"),
    "confirm_without_card": ("未使用身份证", "Without an ID card"),
    "confirm": ("确认取号", "Get my number"),
    "issuing": ("正在取号，请稍候…", "Getting your number, please wait…"),
    "unreachable": ("网络不畅，正在重试…", "The connection is slow, retrying…"),
    "gave_up": (
        "暂时无法取号，请到总服务台取号",
        "No number can be issued here now: please ask at the general desk",
    ),
    "your_number": ("您的号码", "Your number"),
    "ahead": ("前面还有 {n} 人", "{n} ahead of you"),
    "printed": ("请取走号票，留意叫号屏", "Please take your ticket and watch the call screen"),
    "printing": ("正在打印…", "Printing…"),
    "paper_out": (
        "打印机缺纸，请拍下屏幕上的号码，或到总服务台领取",
        "The printer is out of paper: photograph your number on screen, or ask at the general desk.",
    ),
    "printer_fault": (
        "打印机故障，请拍下屏幕上的号码，或到总服务台领取",
        "The printer is not working: photograph your number on screen, or ask at the general desk.",
    ),
    "special_lane": ("优先通道", "Priority lane"),
    "back": ("返回", "Back"),
    "home": ("首页", "Home"),
    "done": ("完成", "Done"),
    "language": ("English", "中文"),
    "elder_on": ("长辈模式", "Elder mode"),
    "elder_off": ("标准模式", "Standard mode"),
    "countdown": ("{s} 秒后返回首页", "Back to home in {s} s"),
    "check_in": ("预约签到", "Check in"),
    "check_in_hint": (
        "扫描预约二维码、输入预约码或刷身份证",
        "Scan your booking QR code, type its code, or use your ID card",
    ),
    "checkin_title": ("预约签到", "Appointment check-in"),
    "checkin_how": (
        "请扫描预约二维码，或将身份证放在读卡区，或输入 8 位预约码",
        "Scan the QR code of your booking, place your ID card on the reader, or type the 8-character code",
    ),
    "backspace": ("删除", "Delete"),
    "checkin_submit": ("签到", "Check in"),
    "code_incomplete": ("请输入完整的 8 位预约码", "Please type all 8 characters of the code"),
    "qr_invalid": ("这不是预约二维码，请扫描预约短信或页面上的二维码", "This is not a booking QR code"),
    "checking": ("正在签到，请稍候…", "Checking you in, please wait…"),
    "checkin_gave_up": (
        "暂时无法确认签到，请到总服务台办理",
        "Your check-in could not be confirmed: please ask at the general desk",
    ),
    "take_instead": ("改为取普通号", "Take an ordinary number instead"),
    "book": ("预约", "Book"),
    "book_hint": ("预约以后的办理时段", "Book a time to come in"),
    "closed_title": ("大厅已下班", "The hall is closed"),
    "closed_next": ("下次开放时间：{day} {hhmm}", "It opens again on {day} at {hhmm}"),
    "closed_no_date": ("大厅暂停服务，请关注通知", "The hall is closed until further notice"),
    "closed_hint": ("现在可以在本机预约办理时段", "You can book a time to come in here now"),
    "phone_add": ("短信叫号（可选）", "SMS call (optional)"),
    "phone_title": ("请输入手机号码", "Enter your mobile number"),
    "phone_hint_ticket": (
        "可选：快轮到您时发短信通知您",
        "Optional: a text message tells you when your turn is near",
    ),
    "phone_hint_booking": ("用于预约提醒", "For reminders of your booking"),
    "phone_invalid": (
        "请输入 11 位手机号码（1 开头，第二位 3–9）",
        "Please enter an 11-digit mobile number starting 13–19",
    ),
    "phone_ok": ("确定", "OK"),  # 确定 in Chinese, never "OK"
    "phone_none": ("不需要", "No thanks"),
    "phone_on_ticket": ("短信叫号：{phone}", "SMS call: {phone}"),
    "book_choose_domain": ("请选择预约事项", "Choose a service to book"),
    "book_choose_day": ("请选择日期", "Choose a day"),
    "book_choose_slot": ("请选择时段", "Choose a time"),
    "book_loading": ("正在读取可预约时段…", "Loading the free times…"),
    "book_no_slots": (
        "近期没有可预约的时段，请稍后再试或在网上预约",
        "No free times soon: try later or book on the web",
    ),
    "book_card_title": ("请将身份证放在读卡区", "Place your ID card on the reader"),
    "book_card_hint": (
        "预约需要身份证；没有身份证可以在网上或手机上预约",
        "A booking needs your ID card; without it, book on the web or by phone",
    ),
    "book_confirm_title": ("请确认预约", "Please confirm your booking"),
    "book_when": ("时间：{day} {time}", "Time: {day} {time}"),
    "book_who": ("预约人：{name}　手机：{phone}", "Name: {name}   Mobile: {phone}"),
    "book_submit": ("确认预约", "Book"),
    "booking": ("正在预约，请稍候…", "Booking, please wait…"),
    "booked_title": ("预约成功", "Booked"),
    "booked_code": ("预约码：{code}", "Booking code: {code}"),
    "booked_hint": (
        "请按时到大厅，扫描此二维码或刷身份证签到",
        "Come at your time and check in with this QR code or your ID card",
    ),
    "booked_no_code": (
        "您当天已有该事项的预约，请按时到大厅刷身份证签到",
        "You have a booking for this service that day: check in with your ID card",
    ),
    "book_gave_up": (
        "网络不畅，未能预约，请稍后再试",
        "The connection is down: nothing was booked, please try again later",
    ),
    "simulate_card": ("模拟刷卡（演示）", "Demo ID card"),
    "error_generic": ("暂时无法取号，请到总服务台咨询", "No number can be issued now: please ask at the general desk"),
}


def t(key: str, lang: Lang, **kw: object) -> str:
    """The string `key` in `lang`, formatted with `kw`."""
    zh, en = CATALOGUE[key]
    return (zh if lang == "zh" else en).format(**kw)


def both(key: str, sep: str = " / ", **kw: object) -> str:
    """The string in both languages, Chinese first."""
    return t(key, "zh", **kw) + sep + t(key, "en", **kw)
