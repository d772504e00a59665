"""A hall in 中文, English, 한국어, 日本語 over a live server (issue 22): the board state's languages and queue
names, the catalogue's names in every language with English where an item has none."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from queue_server.cases.catalog import CatalogError, load_catalog
from queue_server.cases.chains import default_chains_dir, load_chains, missing_names, parse_chain
from queue_server.config import ConfigError, parse_config

from ..harness import KIOSK, TEST_CONFIG, Api, LiveServer, fresh_database, runtime, serving

ROOT = Path(__file__).resolve().parents[2]
NAMES = {
    "A": 'names = { ko = "시장 진입", ja = "市場参入" }',
    "B": 'names = { ko = "투자·건설", ja = "投資・建設" }',
    "C": 'names = { ko = "사회 업무", ja = "社会事務" }',
}
WINDOW_5 = (
    '  name = "综合受理窗口"\n  name_en = "Comprehensive window"\n'
    '  names = { ko = "종합 접수 창구", ja = "総合受付窓口" }\n'
)


def lang_config(tmp: Path) -> Path:
    """The test hall t1 speaking zh, en, ko, ja; beside it a catalogue of two items, one without other names."""
    text = TEST_CONFIG.read_text(encoding="utf-8")
    marker = 'name_en = "Test Service Centre"'
    text = text.replace(marker, marker + '\nlanguages = ["zh", "en", "ko", "ja"]', 1)
    for code, names in NAMES.items():
        head = f'  code = "{code}"\n'
        at = text.index(head)  # t1's queues come first
        end = text.index("\n\n", at)
        text = text[:end] + f"\n  {names}" + text[end:]
    text = text.replace('name_en = "Social affairs"\n', 'name_en = "Social affairs"\n  daily_cap = 2\n', 1)
    five = '  number = 5\n  queues = ["A"]\n'
    text = text.replace(five, five + WINDOW_5, 1)
    path = tmp / "hall.toml"
    path.write_text(text, encoding="utf-8")
    items = tmp / "items"
    items.mkdir()
    shutil.copy(ROOT / "config" / "items" / "06-shebaoka.toml", items)
    bare = (ROOT / "config" / "items" / "13-fapiao.toml").read_text(encoding="utf-8")
    bare = "\n".join(x for x in bare.splitlines() if not x.startswith(("names = ", "domain_names = ")))
    (items / "13-fapiao.toml").write_text(bare, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def server(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    tmp = tmp_path_factory.mktemp(f"lang-{backend}")
    rt = runtime(fresh_database(backend, tmp, name="lang"), tmp / "var", config=lang_config(tmp))
    with serving(rt) as srv:
        yield srv


@pytest.fixture
def lapi(server: LiveServer) -> Iterator[Api]:
    a = Api(server)
    yield a
    a.close()


def test_the_board_state_carries_the_hall_languages_and_each_queue_in_them(lapi: Api) -> None:
    board = lapi.http.get("/api/v1/halls/t1/board").json()["data"]
    assert board["hall"]["languages"] == ["zh", "en", "ko", "ja"]
    queues = {q["code"]: q for q in board["queues"]}
    assert queues["A"]["names"] == {"zh": "市场准入", "en": "Market access", "ko": "시장 진입", "ja": "市場参入"}
    assert queues["C"]["names"]["ja"] == "社会事務"
    other = lapi.http.get("/api/v1/halls/t2/board").json()["data"]
    assert other["hall"]["languages"] == ["zh", "en"]
    assert all(set(q["names"]) == {"zh", "en"} for q in other["queues"])


def test_items_in_every_language_with_english_where_one_is_missing(lapi: Api) -> None:
    items = {i["code"]: i for i in lapi.http.get("/api/v1/items").json()}
    card, invoice = items["SBYB-SBK-001"], items["NS-FP-001"]
    assert card["names"]["ko"] == "사회보장카드 신청"
    assert card["names"]["ja"] == "社会保障カードの申請"
    assert card["names"]["ru"] == "Получение карты социального страхования"
    assert card["domain_names"]["ko"] == "사회보험·의료보험"
    assert invoice["names"] == {lang: "Obtaining invoices" for lang in ("en", "ko", "ja", "ru")} | {"zh": "发票领用"}
    assert invoice["domain_names"]["ko"] == "Tax services"
    domains = {d["domain"]: d for d in lapi.http.get("/api/v1/items/domains").json()}
    assert domains["社保医保"]["domain_names"]["ru"] == "Социальное и медицинское страхование"
    assert domains["纳税服务"]["domain_names"]["ja"] == "Tax services"


def test_a_ticket_in_korean_needing_an_interpreter(lapi: Api) -> None:
    """The kiosk's language and 需要语言服务 travel with the ticket: its tracking state says the language and the
    queue's name in it; the clerk who calls it sees the interpreter; the board never does."""
    t = lapi.take("A", lang="ko", interpreter="ko")
    assert (t["lang"], t["interpreter"]) == ("ko", "ko")
    track = lapi.http.get(f"/api/v1/track/{t['track_token']}").json()
    assert track["lang"] == "ko" and track["languages"] == ["zh", "en", "ko", "ja"]
    assert track["queue_names"]["ko"] == "시장 진입" and track["queue_name"] == "市场准入"
    assert "interpreter" not in track
    plain = lapi.take("A")
    assert plain["lang"] is None and plain["interpreter"] is None
    called = lapi.call_next(5).json()
    assert called["number"] == t["number"] and called["interpreter"] == "ko"
    desk = lapi.http.get("/api/v1/halls/t1/console/windows/5", headers=lapi.auth("clerk1")).json()
    assert desk["current"]["interpreter"] == "ko"
    board = lapi.http.get("/api/v1/halls/t1/board").text
    assert "interpreter" not in board
    assert lapi.act(called["id"], "complete").status_code == 200


def test_languages_the_hall_does_not_offer_are_refused(lapi: Api) -> None:
    r = lapi.http.post("/api/v1/halls/t1/tickets", json={"queue": "A", "interpreter": "ru"}, headers=lapi.auth(KIOSK))
    assert r.status_code == 422, r.text
    assert "This hall offers no interpreter in 'ru' (en, ko, ja)" in r.json()["detail"]
    r = lapi.http.post("/api/v1/halls/t1/tickets", json={"queue": "A", "lang": "fr"}, headers=lapi.auth(KIOSK))
    assert r.status_code == 422, r.text
    r = lapi.http.post("/api/v1/halls/t1/tickets", json={"queue": "A", "interpreter": "zh"}, headers=lapi.auth(KIOSK))
    assert r.status_code == 422, r.text


def test_refusals_and_phone_messages_in_the_citizen_language(lapi: Api) -> None:
    """Chinese first, then the ticket's language (or the request's Accept-Language) instead of English."""
    lapi.server.reset()
    lapi.take("C")
    lapi.take("C")
    r = lapi.http.post("/api/v1/halls/t1/tickets", json={"queue": "C", "lang": "ko"}, headers=lapi.auth(KIOSK))
    assert r.status_code == 409
    assert r.json()["detail"] == "今日社会事务号已放完（2个） / 오늘 사회 업무 번호표 2장이 모두 나갔습니다"
    headers = lapi.auth(KIOSK) | {"Accept-Language": "ja-JP,ja;q=0.9"}
    r = lapi.http.post("/api/v1/halls/t1/tickets", json={"queue": "C"}, headers=headers)
    assert r.json()["detail"] == "今日社会事务号已放完（2个） / 本日の社会事務の番号札（2 枚）は終了しました"
    r = lapi.http.post("/api/v1/halls/t1/tickets", json={"queue": "C"}, headers=lapi.auth(KIOSK))
    assert r.json()["detail"].endswith(" / Today's 2 tickets for Social affairs are all taken")

    t = lapi.take("A", lang="ko", phone="13912345678")
    assert lapi.call_next(5).json()["id"] == t["id"]
    sent = lapi.http.get("/api/v1/halls/t1/notifications", headers=lapi.auth("admin")).json()
    texts = {n["kind"]: n["text"] for n in sent if n["ticket"] == t["number"]}
    assert texts["called"] == f"请{t['number']}号到5号窗口办理 / {t['number']}번 고객님, 5번 창구로 오세요"
    assert texts["issued"].startswith(f"您已在测试政务服务中心取号{t['number']}")
    assert f"Test Service Centre 번호표 {t['number']}번" in texts["issued"]


def test_the_window_a_ticket_is_called_to_in_its_language(lapi: Api) -> None:
    """The call "please go to window 5" with the window's own name in the ticket's language (Chinese first),
    English where a window has no name in it; none before the call."""
    lapi.server.reset()
    t = lapi.take("A", lang="ko")
    track = lapi.http.get(f"/api/v1/track/{t['track_token']}").json()
    assert track["window_names"] == {}
    assert lapi.call_next(5).json()["id"] == t["id"]
    track = lapi.http.get(f"/api/v1/track/{t['track_token']}").json()
    assert track["window"] == 5
    assert track["window_names"] == {
        "zh": "综合受理窗口",
        "en": "Comprehensive window",
        "ko": "종합 접수 창구",
        "ja": "総合受付窓口",
    }
    other = lapi.take("A")
    assert lapi.call_next(1).json()["id"] == other["id"]  # window 1 has the default name and no other names
    track = lapi.http.get(f"/api/v1/track/{other['track_token']}").json()
    assert track["window_names"] == {"zh": "综合窗口", "en": "Window", "ko": "Window", "ja": "Window"}


def test_chains_in_every_language(api: Api) -> None:
    """The chains API serves each chain's names in 中文, English, 한국어, 日本語, Русский (English where a chain
    file has none, said at start-up); a chain file with a language the product does not know is refused."""
    chains = {c["code"]: c for c in api.http.get("/api/v1/chains").json()}
    assert chains["YL-CYD-001"]["names"] == {
        "zh": "开办餐饮店",
        "en": "Open a restaurant",
        "ko": "음식점 개업",
        "ja": "飲食店の開業",
        "ru": "Открытие ресторана или кафе",
    }
    assert chains["YL-QYKB-001"]["names"]["ko"] == "기업 설립"
    detail = api.http.get("/api/v1/chains/YL-QYKB-001").json()
    assert detail["names"]["ja"] == "会社の設立"

    items = load_catalog()
    shipped = load_chains(default_chains_dir(), items)
    assert missing_names(shipped, ["zh", "en", "ko", "ja", "ru"]) == []
    good = (default_chains_dir() / "02-qiye-kaiban.toml").read_text(encoding="utf-8")
    bare = "\n".join(x for x in good.splitlines() if not x.startswith("names = "))
    chain = parse_chain(bare, {i.code: i for i in items}, "chain.toml")
    assert chain.names == {}
    assert missing_names([chain], ["zh", "en", "ru"]) == ["chain YL-QYKB-001 has no name in 'ru': add names.ru"]
    bad = good.replace('ko = "기업 설립"', 'fr = "Créer une entreprise"')
    with pytest.raises(CatalogError) as exc:
        parse_chain(bad, {i.code: i for i in items}, "chain.toml")
    assert "chain.toml" in str(exc.value) and "unknown language 'fr' in names" in str(exc.value)


def test_a_window_name_in_a_language_nobody_speaks_is_refused(tmp_path: Path) -> None:
    text = lang_config(tmp_path).read_text(encoding="utf-8").replace('ko = "종합 접수 창구"', 'de = "Schalter"', 1)
    with pytest.raises(ConfigError) as exc:
        parse_config(text, "hall.toml")
    assert "unknown language 'de' in names" in str(exc.value)


def test_a_missed_ticket_reads_the_rejoin_rule_in_its_language(lapi: Api) -> None:
    """The tracking page of a missed 한국어 ticket: the rule Chinese first, then Korean; the page's switcher has
    the rule's second half in each of the hall's languages."""
    lapi.server.reset()
    t = lapi.take("A", lang="ko")
    assert lapi.call_next(5).json()["id"] == t["id"]
    assert lapi.act(t["id"], "no-show").status_code == 200
    track = lapi.http.get(f"/api/v1/track/{t['track_token']}").json()
    assert track["status"] == "no_show"
    assert track["rejoin_rule"] == (
        "过号后当天可到总服务台重新排队，排在队尾。 / "
        "오늘 중에 종합안내데스크에 말씀하시면 다시 줄을 설 수 있습니다. 대기열 맨 뒤에 서게 됩니다."
    )
    rules = track["rejoin_rules"]
    assert set(rules) == {"en", "ko", "ja"}
    assert rules["en"] == "Ask at the information desk today to rejoin, at the back."
    assert rules["ja"].startswith("本日中に総合案内にお申し出いただければ並び直せます")


def test_a_remote_ticket_code_and_its_refusal_in_the_phone_language(lapi: Api) -> None:
    """通办取号 from a phone whose browser says 日本語: the code's message and a wrong code's refusal, Chinese first
    then Japanese; the code itself masked in what staff see."""
    lapi.server.reset()
    lapi.server.ctx.limiter.clear()
    headers = {"Accept-Language": "ja-JP,ja;q=0.9,en;q=0.5"}
    body = {"queue": "A", "phone": "13912345670"}
    r = lapi.http.post("/api/v1/halls/t1/remote-tickets/verify", json=body, headers=headers)
    assert r.status_code == 202, r.text
    sent = lapi.http.get("/api/v1/halls/t1/notifications", headers=lapi.auth("admin")).json()
    (code,) = [n["text"] for n in sent if n["kind"] == "verify_code"]
    assert code.startswith("您正在测试政务服务中心远程取号，验证码")
    assert " / Test Service Centreのリモート番号札の確認コードは " in code
    assert not any(ch.isdigit() for ch in code.split("確認コードは", 1)[1].split("です")[0])  # masked
    r = lapi.http.post("/api/v1/halls/t1/remote-tickets", json=body | {"code": "000000"}, headers=headers)
    assert r.status_code == 422, r.text
    assert r.json()["detail"] == (
        "验证码不正确或已失效，请重新获取 / "
        "確認コードが違うか、有効期限が切れています。もう一度コードを取得してください"
    )
    r = lapi.http.post("/api/v1/halls/t1/remote-tickets", json=body | {"code": "000000", "lang": "en"})
    assert r.json()["detail"].endswith(" / The code is wrong or has expired; ask for a new one")
