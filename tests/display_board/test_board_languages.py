"""The boards' second line in the hall's languages (issue 22): the view in 한국어, 日本語, Русский with the queues'
own names, the order it goes round, and the Kivy board under Xvfb with its second line in Korean (Noto Sans CJK,
every text inside its box)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from display_board import strings as s
from display_board.view import board_view, second_languages, window_view
from tests.display_board.morning import SHOT_TIME
from tests.display_board.test_kivy_board import ENV, FONT, ROOT, SHOTS, _inside, _need, demo_state  # noqa: F401

NOTO = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")


def state(languages: list[str]) -> dict[str, Any]:
    names = {"zh": "社保医保", "en": "Social & medical insurance"}
    names |= {"ko": "사회보험·의료보험", "ja": "社会保険・医療保険"}
    return {
        "hall": {"code": "h", "name": "一厅", "name_en": "Hall", "timezone": "Asia/Shanghai", "languages": languages},
        "queues": [
            {"code": "D", "name": names["zh"], "name_en": names["en"], "names": names}
            | {"waiting": 3, "estimated_wait_s": 600}
        ],
        "windows": [{"number": 4, "name": "", "name_en": "", "queues": ["D"], "status": "paused", "reason": "午休"}],
        "recent_calls": [{"id": 1, "number": "D001", "queue": "D", "window": 3, "at": "2026-12-07T01:00:00+00:00"}],
        "notice": "",
    }


def test_the_second_line_goes_round_the_hall_languages_without_chinese() -> None:
    assert second_languages(state(["zh", "en", "ko", "ja"])) == ["en", "ko", "ja"]
    assert second_languages({"hall": {}}) == ["en"]


def test_the_view_in_korean_japanese_and_russian() -> None:
    ko = board_view(state(["zh", "en", "ko"]), lang="ko")
    assert ko.calls[0].zh == "请到 3 号窗口" and ko.calls[0].en == "3번 창구로 오세요"
    assert ko.queues[0].name == "社保医保" and ko.queues[0].name_en == "사회보험·의료보험"
    assert ko.queues[0].en == "3명 대기 · 약 10분"
    assert ko.paused[0].en == "업무 일시 중지"
    ja = board_view(state(["zh", "en", "ja"]), lang="ja", stale=True)
    assert ja.queues[0].name_en == "社会保険・医療保険" and ja.stale_text == "连接中断 / 接続が切れました"
    ru = board_view(state(["zh", "en", "ru"]), lang="ru")
    assert ru.queues[0].name_en == "Social & medical insurance"  # no Russian name: English
    assert ru.calls[0].en == "Пройдите к окну 3"
    w = window_view(state(["zh", "en", "ko"]), 4, "ko")
    assert (w.title_zh, w.title_en, w.status_en) == ("4 号窗口", "4번 창구", "업무 일시 중지")
    assert board_view(state(["zh", "en"])).calls[0].en == "Window 3"  # English as before


@pytest.mark.parametrize("lang", s.LANGS)
def test_every_message_in_every_language_with_its_placeholders(lang: str) -> None:
    """display_board/locale/<lang>/LC_MESSAGES/board.po has a text for every id of board.pot, with the Chinese
    text's {placeholders}; its header says how the terms were checked."""
    assert s.BOARD.problems(lang) == []
    header = s.BOARD.po_path(lang).read_text(encoding="utf-8").split("msgid", 1)[0]
    assert "How the terms were checked" in header


def test_the_template_is_what_the_board_names() -> None:
    """board.pot lists exactly the ids the board's code and .kv name (`python -m display_board.strings extract`)."""
    assert s.template_problems() == []


def test_a_gap_in_a_language_is_found(tmp_path: Path) -> None:
    """A .po without one text, or with another placeholder, is reported; so is an id the code names that the
    template lacks."""
    locale = tmp_path / "locale"
    shutil.copytree(s.BOARD.locale_dir, locale)
    ko = locale / "ko" / "LC_MESSAGES" / "board.po"
    text = ko.read_text(encoding="utf-8")
    text = text.replace('msgstr "{window}번 창구로 오세요"', 'msgstr ""').replace('{n}명 대기"', '{m}명 대기"')
    ko.write_text(text, encoding="utf-8")
    broken = replace(s.BOARD, locale_dir=locale)
    assert broken.problems("ko") == ["ko: call_line missing", "ko: waiting_n has ['m'], not ['n']"]
    assert broken.problems("ja") == []
    found = [key for (_c, key), _w in s.extracted()]
    assert "call_line" in found and "queues" in found  # from view.py and from board.kv


def test_window_names_beside_the_window_on_the_second_line() -> None:
    """Where the hall names its windows in its languages (board state hall.window_names), the newest call and the
    window display carry the name: Chinese, and in the second line's language."""
    st = state(["zh", "en", "ko"])
    st["hall"]["window_names"] = {"3": {"zh": "综合受理窗口", "en": "Comprehensive window", "ko": "종합 접수 창구"}}
    st["windows"].append({"number": 3, "name": "综合受理窗口", "name_en": "Comprehensive window"})
    st["windows"][-1] |= {"queues": ["D"], "status": "open", "reason": ""}
    ko = board_view(st, lang="ko")
    assert (ko.calls[0].name_zh, ko.calls[0].name_en) == ("综合受理窗口", "종합 접수 창구")
    assert board_view(st, lang="ja").calls[0].name_en == "Comprehensive window"  # no Japanese name: English
    w = window_view(st, 3, "ko")
    assert (w.name, w.name_en) == ("综合受理窗口", "종합 접수 창구")
    plain = board_view(state(["zh", "en", "ko"]), lang="ko")  # no names given: nothing more on the line
    assert (plain.calls[0].name_zh, plain.calls[0].name_en) == ("", "")


def test_kivy_lobby_board_in_korean(demo_state: Path) -> None:  # noqa: F811
    """The demo hall (zh, en, ko, ja, ru) at 1920×1080 with the second line held in Korean: Hangul from Noto Sans
    CJK on the second line, Chinese on the first, every text inside its box."""
    _need(shutil.which("xvfb-run") is not None, "xvfb-run (apt-get install xvfb)")
    _need(FONT.is_file() and NOTO.is_file(), "the CJK fonts (apt-get install fonts-wqy-microhei fonts-noto-cjk)")
    tmp = demo_state.parent
    target, report_path = tmp / "kivy-board-ko.png", tmp / "ko.json"
    cmd = ["xvfb-run", "-a", "-s", "-screen 0 1920x1080x24", sys.executable, "-m", "display_board"]
    cmd += ["--state", str(demo_state), "--screenshot", str(target), "--layout-report", str(report_path)]
    cmd += ["--page-seconds", "0.3", "--screenshot-delay", "1", "--fixed-time", SHOT_TIME.isoformat(), "--lang", "ko"]
    done = subprocess.run(cmd, cwd=ROOT, env=ENV, capture_output=True, timeout=180, check=False)
    assert done.returncode == 0, done.stdout.decode(errors="replace")[-3000:]
    shutil.copyfile(target, SHOTS / "kivy-board-ko.png")
    report = json.loads(report_path.read_text(encoding="utf-8"))
    texts = [lb["text"] for lb in report["labels"]]
    assert any("번 창구로 오세요" in t for t in texts), texts  # the newest call's second line
    hangul = [lb for lb in report["labels"] if any("\uac00" <= ch <= "\ud7a3" for ch in lb["text"])]
    assert hangul and all(lb["font"] == "HallSecond-ko" for lb in hangul), hangul  # drawn in Noto Sans CJK
    assert all(lb["font"] != "HallSecond-ko" for lb in report["labels"] if "请到" in lb["text"])
    assert "대기 현황" in " ".join(texts)
    assert "综合受理窗口 · 종합 접수 창구" in texts  # the newest call's window (3), named in Chinese and Korean
    assert any(t == "社保医保" for t in texts) or any("社保医保" in t for t in texts)
    names = {lb["text"] for lb in report["labels"]}
    assert names & {"사회보험·의료보험", "시장 진입(사업자 등록)", "경찰 민원", "부동산 등기"}, names
    screen = [0.0, 0.0, 1920.0, 1080.0]
    labels = report["labels"]
    misfits = [lb for lb in labels if any(n > b + 1 for n, b in zip(lb["natural"], lb["box"][2:], strict=True))]
    assert misfits == []
    assert all(_inside(lb["box"], screen) for lb in report["labels"])
    with Image.open(target) as img:
        assert img.size == (1920, 1080)
        colours = img.convert("RGB").getcolors(maxcolors=1 << 20)
        assert colours is None or len(colours) > 50
