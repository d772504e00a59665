"""The board's UI string catalogue: every citizen-facing text, in Chinese and English."""

from __future__ import annotations

from typing import Final

# key -> (Chinese, English). Templates use str.format fields.
STRINGS: Final[dict[str, tuple[str, str]]] = {
    "call_line": ("请到 {window} 号窗口", "Window {window}"),
    "waiting": ("等候 {n} 人 · 约 {minutes} 分钟", "{n} waiting · ~{minutes} min"),
    "waiting_none": ("无人等候", "No one waiting"),
    "waiting_n": ("等候 {n} 人", "{n} waiting"),
    "about_min": ("约 {minutes} 分钟", "~{minutes} min"),
    "no_wait": ("无需等候", "No wait"),
    "window_word": ("号窗口", "Window"),
    "paused": ("暂停服务", "Service paused"),
    "closed": ("暂停开放", "Closed"),
    "window_title": ("{window} 号窗口", "Window {window}"),
    "now_serving": ("当前号码", "Now serving"),
    "no_current": ("暂无叫号", "No call yet"),
    "notice_label": ("通知：", "Notice: "),
    "connection_lost": ("连接中断", "Connection lost"),
    "recent_calls": ("叫号", "Calls"),
    "queues": ("等候情况", "Waiting"),
    "paused_windows": ("暂停服务窗口", "Paused windows"),
    "announce": ("请 {number} 号到 {window} 号窗口办理", "Number {number}, please go to window {window}"),
}


def zh(key: str, **fields: object) -> str:
    """The Chinese text of `key`, formatted."""
    return STRINGS[key][0].format(**fields)


def en(key: str, **fields: object) -> str:
    """The English text of `key`, formatted."""
    return STRINGS[key][1].format(**fields)


def both(key: str, sep: str = "  ", **fields: object) -> str:
    """Chinese then English, separated by `sep`."""
    return zh(key, **fields) + sep + en(key, **fields)
