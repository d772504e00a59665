"""The services `python -m kiosk` offers: one `register` line each, in the order of their home tiles (see
`kiosk.parts` and docs/kiosk.md, "How to add a service"). `CORE` are take-a-number, check-in and booking: the big
home tiles every kiosk has (a kiosk built for one more service, as `python -m kiosk.feedback`, starts from them)."""

from __future__ import annotations

from .booking_ui import BookingPart
from .checkin_ui import CheckInPart
from .feedback.ui import FeedbackUi
from .parts import register
from .submission.run import submission_part
from .take_ui import TakeNumberPart

CORE = (TakeNumberPart, CheckInPart, BookingPart)
for core in CORE:
    register(core)  # 取号 · 签到 · 预约
register(submission_part)  # 自助申报 · 办件查询 · 取件
register(FeedbackUi)  # 投诉建议
