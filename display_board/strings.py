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


# The second line in the hall's other languages (`languages` of the hall; the board goes round them), key -> lang ->
# text; the same words as the web board's (queue_server/web/board/strings.js) and the kiosk's catalogues: 번호 /
# 창구 (ko), 番号 / 窓口 (ja), номер / окно (ru). A key or language missing here shows in English.
SECOND: Final[dict[str, dict[str, str]]] = {
    "call_line": {"ko": "{window}번 창구로 오세요", "ja": "{window}番窓口へどうぞ", "ru": "Пройдите к окну {window}"},
    "waiting": {
        "ko": "{n}명 대기 · 약 {minutes}분",
        "ja": "{n}人待ち · 約{minutes}分",
        "ru": "Ожидают: {n} · ≈{minutes} мин",
    },
    "waiting_none": {"ko": "대기 없음", "ja": "待ちなし", "ru": "Очереди нет"},
    "waiting_n": {"ko": "{n}명 대기", "ja": "{n}人待ち", "ru": "Ожидают: {n}"},
    "about_min": {"ko": "약 {minutes}분", "ja": "約{minutes}分", "ru": "≈{minutes} мин"},
    "no_wait": {"ko": "바로 접수", "ja": "すぐ受付", "ru": "Без ожидания"},
    "window_word": {"ko": "창구", "ja": "窓口", "ru": "Окно"},
    "paused": {"ko": "업무 일시 중지", "ja": "受付一時停止", "ru": "Приём приостановлен"},
    "closed": {"ko": "운영 안 함", "ja": "受付休止", "ru": "Закрыто"},
    "window_title": {"ko": "{window}번 창구", "ja": "{window}番窓口", "ru": "Окно {window}"},
    "now_serving": {"ko": "현재 번호", "ja": "ただいまの番号", "ru": "Сейчас обслуживается"},
    "no_current": {"ko": "호출 없음", "ja": "呼び出しなし", "ru": "Вызовов нет"},
    "notice_label": {"ko": "안내: ", "ja": "お知らせ: ", "ru": "Объявление: "},
    "connection_lost": {"ko": "연결 끊김", "ja": "接続が切れました", "ru": "Нет связи"},
    "recent_calls": {"ko": "호출", "ja": "呼び出し", "ru": "Вызовы"},
    "queues": {"ko": "대기 현황", "ja": "待ち状況", "ru": "Очередь"},
    "paused_windows": {"ko": "중지된 창구", "ja": "休止中の窓口", "ru": "Окна не работают"},
}


def second(key: str, lang: str, **fields: object) -> str:
    """The second line of `key` in `lang` (English for "en" and for a language it lacks), formatted."""
    return SECOND.get(key, {}).get(lang, STRINGS[key][1]).format(**fields)


def zh(key: str, **fields: object) -> str:
    """The Chinese text of `key`, formatted."""
    return STRINGS[key][0].format(**fields)


def en(key: str, **fields: object) -> str:
    """The English text of `key`, formatted."""
    return STRINGS[key][1].format(**fields)


def both(key: str, sep: str = "  ", **fields: object) -> str:
    """Chinese then English, separated by `sep`."""
    return zh(key, **fields) + sep + en(key, **fields)
