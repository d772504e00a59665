"""Items catalog: the shipped files, validation errors naming file, line and field, versions, the API."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from queue_server.app import prepare
from queue_server.cases.catalog import CatalogError, load_catalog, parse_item

from ..harness import KIOSK, TEST_CONFIG, Api
from .helpers import ITEM, new_case

GOOD = """
code = "TEST-001"
name = "测试事项"
name_en = "Test item"
domain = "测试"
domain_en = "Test"
department = "测试局"
legal_basis = "《测试条例》第一条"
service_object = ["自然人"]
legal_days = 5
time_limit_days = 3

[[situations]]
code = "only"
name = "唯一情形"
name_en = "Only situation"

  [[situations.materials]]
  code = "form"
  name = "申请表"
  name_en = "Form"
"""


def test_shipped_catalog_is_realistic() -> None:
    items = load_catalog()
    assert len(items) >= 15
    assert len({i.domain for i in items}) >= 6
    names = {i.name for i in items}
    for expected in ("个体工商户设立登记", "建设工程施工许可证核发", "社会保障卡申领", "机动车驾驶证换证（有效期满）"):
        assert expected in names
    assert any(i.name.startswith("食品经营许可") for i in items)
    assert any(i.name.startswith("不动产转移登记") for i in items)
    for i in items:
        assert i.time_limit_days <= i.legal_days
        assert all(s.materials for s in i.situations)
    assert any(m.shortfall_allowed for i in items for s in i.situations for m in s.materials)
    assert any(m.commitment_allowed for i in items for s in i.situations for m in s.materials)


def test_error_names_file_line_and_field(tmp_path: Path) -> None:
    bad = GOOD.replace("time_limit_days = 3", 'time_limit_days = "three"')
    (tmp_path / "bad.toml").write_text(bad, encoding="utf-8")
    with pytest.raises(CatalogError) as info:
        load_catalog(tmp_path)
    text = str(info.value)
    line = bad.splitlines().index('time_limit_days = "three"') + 1
    assert f"bad.toml:{line}: time_limit_days:" in text


def test_nested_field_and_unknown_key(tmp_path: Path) -> None:
    bad = GOOD.replace('  name_en = "Form"', '  name_en = "Form"\n  mandatory = true')
    with pytest.raises(CatalogError) as info:
        parse_item(bad, "x.toml")
    assert "situations[0].materials[0].mandatory: unknown field 'mandatory'" in str(info.value)
    assert "x.toml:" in str(info.value)


def test_rules_across_fields() -> None:
    with pytest.raises(CatalogError, match="cannot be longer than legal_days"):
        parse_item(GOOD.replace("legal_days = 5", "legal_days = 2"))
    with pytest.raises(CatalogError, match="commitment_allowed = true"):
        parse_item(GOOD.replace('  name_en = "Form"', '  name_en = "Form"\n  commitment_allowed = true'))


def test_duplicate_codes_across_files(tmp_path: Path) -> None:
    (tmp_path / "a.toml").write_text(GOOD, encoding="utf-8")
    (tmp_path / "b.toml").write_text(GOOD, encoding="utf-8")
    with pytest.raises(CatalogError, match=re.escape("b.toml: code: item code 'TEST-001' is also used by a.toml")):
        load_catalog(tmp_path)


def test_browse_search_and_template(api: Api) -> None:
    r = api.http.get("/api/v1/items")
    assert r.status_code == 200 and len(r.json()) >= 15
    market = api.http.get("/api/v1/items", params={"domain": "市场准入"}).json()
    assert market and all(i["domain"] == "市场准入" for i in market)
    assert api.http.get("/api/v1/items", params={"domain": "Market access"}).json() == market
    found = api.http.get("/api/v1/items", params={"q": "驾照"}).json()
    assert [i["code"] for i in found] == ["GA-JSZ-001"]
    by_initials = api.http.get("/api/v1/items", params={"q": "gtgshsldj"}).json()  # 个体工商户设立登记
    assert [(i["code"], i["initials"]) for i in by_initials] == [("SCZT-GTH-001", "gtgshsldj")]
    assert "开店" in by_initials[0]["keywords"]
    domains = api.http.get("/api/v1/items/domains").json()
    assert sum(d["items"] for d in domains) == len(r.json())
    item = api.http.get(f"/api/v1/items/{ITEM}").json()
    premises = item["situations"][0]["materials"][2]
    assert premises["shortfall_allowed"] and premises["commitment_allowed"] and premises["sample"]
    assert api.http.get("/api/v1/items/NOPE-000").status_code == 404


def test_admin_versions_and_cases_keep_theirs(api: Api) -> None:
    case = new_case(api)
    item = api.http.get(f"/api/v1/items/{ITEM}").json()
    assert item["version"] == 1
    body = {k: v for k, v in item.items() if k not in ("version", "source")}
    body["time_limit_days"] = 2
    assert api.http.post("/api/v1/items", json=body, headers=api.auth("clerk1")).status_code == 403
    assert api.http.post("/api/v1/items", json=body, headers=api.auth(KIOSK)).status_code == 403
    r = api.http.post("/api/v1/items", json=body, headers=api.auth("admin"))
    assert r.status_code == 201, r.text
    assert r.json()["version"] == 2 and r.json()["source"] == "admin"
    assert api.http.get(f"/api/v1/items/{ITEM}").json()["time_limit_days"] == 2
    assert api.http.get(f"/api/v1/items/{ITEM}", params={"version": 1}).json()["time_limit_days"] == 1
    versions = api.http.get(f"/api/v1/items/{ITEM}/versions", headers=api.auth("admin")).json()
    assert [v["version"] for v in versions] == [1, 2]
    # The case submitted before the change keeps version 1.
    view = api.http.get(f"/api/v1/cases/{case['number']}", headers=api.auth("clerk1")).json()
    assert view["item"]["version"] == 1 and view["time_limit_days"] == 1
    # A restart re-syncs the files: the admin's version stays current (the file did not change).

    prepare(api.server.ctx, migrate=False)
    assert api.http.get(f"/api/v1/items/{ITEM}").json()["version"] == 2


def test_invalid_item_is_422_with_the_field(api: Api) -> None:
    item = api.http.get(f"/api/v1/items/{ITEM}").json()
    body = {k: v for k, v in item.items() if k not in ("version", "source")}
    body["situations"][0]["materials"][0]["copies"] = 99
    r = api.http.post("/api/v1/items", json=body, headers=api.auth("admin"))
    assert r.status_code == 422
    assert "situations.0.materials.0.copies" in r.json()["detail"]


def test_file_sync_adds_a_version_only_when_the_file_changes(tmp_db: str) -> None:
    from queue_server.cases.items import current, sync_catalog
    from queue_server.db import Database

    db = Database(tmp_db)
    try:
        with db.write() as s:
            assert sync_catalog(s, [parse_item(GOOD)]) == 1
        with db.write() as s:
            assert sync_catalog(s, [parse_item(GOOD)]) == 0  # a restart with the same file
        with db.write() as s:
            assert sync_catalog(s, [parse_item(GOOD.replace("time_limit_days = 3", "time_limit_days = 2"))]) == 1
        with db.read() as s:
            row = current(s, "TEST-001")
            assert (row.version, row.source, row.created_by) == (2, "file", "config")
    finally:
        db.dispose()


def test_output_queue_must_be_a_queue_of_the_hall() -> None:
    from queue_server.config import ConfigError, parse_config

    text = TEST_CONFIG.read_text(encoding="utf-8").replace('output_queue = "C"', 'output_queue = "Z"')
    with pytest.raises(ConfigError, match=r"halls\[0\]\.output_queue: unknown queue 'Z'"):
        parse_config(text, "hall.toml")
