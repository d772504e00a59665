"""The services `python -m kiosk` offers beyond take-a-number, check-in and booking: one `register` line each, in
the order of their home tiles (see `kiosk.parts` and docs/kiosk.md, "How to add a service")."""

from __future__ import annotations

from .feedback.ui import feedback_part
from .parts import register
from .submission.run import submission_part

register(submission_part)  # 自助申报 · 办件查询 · 取件
register(feedback_part)  # 投诉建议
