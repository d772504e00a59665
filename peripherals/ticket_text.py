"""A ticket's second line in the citizen's language (issue 22): the thermal ticket (printer/layout.py) and the ticket
PDF (documents/ticket.py) print Chinese first, then English — or, when the number was taken in 한국어, 日本語 or
Русский, that language. English stays in each layout as it was; this table holds the other three, with the words
the kiosk's catalogues use (kiosk/locale/*/LC_MESSAGES/kiosk.po, whose headers say how they were checked):
번호표 / 창구 / 종합안내데스크 (ko), 番号札 / 窓口 / 総合案内 (ja), талон / окно / справочная стойка (ru).
"""

from __future__ import annotations

OTHER_LANGS = ("ko", "ja", "ru")

TEXT: dict[str, dict[str, str]] = {
    "ahead": {"ko": "앞에 {n}명 대기", "ja": "あと {n} 人", "ru": "Перед вами: {n}"},
    "about": {"ko": "약 {m}분", "ja": "約 {m} 分", "ru": "около {m} мин"},
    "no_wait": {"ko": "대기 없음", "ja": "待ちなし", "ru": "Без ожидания"},
    "next": {
        "ko": "다음 차례입니다: 호출을 확인하세요",
        "ja": "次はあなたの番です",
        "ru": "Вы следующий: следите за табло",
    },
    "priority": {"ko": "우선창구", "ja": "優先窓口", "ru": "Приоритет"},
    "appointment": {"ko": "예약", "ja": "予約", "ru": "По записи"},
    "scan": {
        "ko": "QR 코드로 대기 현황 확인",
        "ja": "QRコードで順番を確認",
        "ru": "Сканируйте, чтобы следить за очередью",
    },
    "missed": {
        "ko": "호출을 놓치면 종합안내데스크로 · 번호표를 보관하세요",
        "ja": "呼び出しに遅れたら総合案内へ · 番号札をお持ちください",
        "ru": "Пропустили вызов? Обратитесь к справочной стойке · Сохраните талон",
    },
    "privacy": {
        "ko": "개인정보 없음: QR 코드는 대기 현황만 보여 줍니다",
        "ja": "個人情報なし：QRコードは順番の確認にのみ使います",
        "ru": "Без личных данных: QR-код показывает только очередь",
    },
}


def text(key: str, lang: str, **fields: object) -> str:
    """`key` in `lang` (one of OTHER_LANGS), formatted."""
    return TEXT[key][lang].format(**fields)


def wait_line(lang: str, people_ahead: int, wait_min: int | None, *, nobody: str = "no_wait") -> str:
    """ "앞에 7명 대기 · 약 15분" (the estimate left out when unknown), or `nobody`'s text when no one is ahead."""
    if people_ahead <= 0:
        return text(nobody, lang)
    line = text("ahead", lang, n=people_ahead)
    return line if wait_min is None else f"{line} · {text('about', lang, m=wait_min)}"
