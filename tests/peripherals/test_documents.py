"""PDF documents: rendered to PNG with pdftoppm, Chinese text read back, CJK font embedded, templates checked."""

from __future__ import annotations

import datetime as dt
import io
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any, cast

import pytest
from PIL import Image
from pypdf import PdfReader
from pypdf.generic import DictionaryObject

from peripherals.documents import (
    CASE_DOCUMENT_KINDS,
    AppointmentData,
    FontUnavailable,
    MissingFieldsError,
    TemplateError,
    TicketData,
    appointment_pdf,
    fonts,
    load_templates,
    parse_templates,
    render_case_document,
    required_fields,
    ticket_pdf,
)
from peripherals.errors import DeviceUnavailable, PeripheralError

CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
MM = 72 / 25.4


def require_tool(name: str) -> str:
    """The path of a command-line tool; skipped on a developer machine without it, never in CI."""
    path = shutil.which(name)
    if path is None:
        message = f"{name} is missing (Debian package poppler-utils)"
        if CI:
            pytest.fail(message)
        pytest.skip(message)
    return path


@pytest.fixture(autouse=True)
def _font_installed() -> None:
    if not fonts.DEFAULT_CJK_FONT.is_file():
        message = f"{fonts.DEFAULT_CJK_FONT} is missing (Debian package {fonts.FONT_PACKAGE})"
        if CI:
            pytest.fail(message)
        pytest.skip(message)


def pdf_text(pdf: bytes, tmp_path: Path) -> str:
    """The PDF's text as pdftotext extracts it, all white space removed (wrapping moves it around)."""
    source = tmp_path / "doc.pdf"
    source.write_bytes(pdf)
    out = subprocess.run([require_tool("pdftotext"), str(source), "-"], capture_output=True, check=True, timeout=60)
    return re.sub(r"\s+", "", out.stdout.decode("utf-8"))


def render_png(pdf: bytes, tmp_path: Path) -> list[Image.Image]:
    """Each page as an 80 dpi PNG, loaded; checks that every page has ink on it."""
    source = tmp_path / "render.pdf"
    source.write_bytes(pdf)
    subprocess.run(
        [require_tool("pdftoppm"), "-png", "-r", "80", str(source), str(tmp_path / "page")], check=True, timeout=60
    )
    pages = sorted(tmp_path.glob("page*.png"))
    assert pages, "pdftoppm wrote no page"
    images = [Image.open(p).convert("L") for p in pages]
    for image in images:
        darkest = image.getextrema()[0]
        assert isinstance(darkest, int) and darkest < 64, "a page is blank"
    return images


def assert_cjk_font_embedded(pdf: bytes) -> None:
    """Every font that is not one of the standard 14 carries its glyphs (FontFile2), and one of them is CJK."""
    reader = PdfReader(io.BytesIO(pdf))
    embedded = []
    for page in reader.pages:
        resources = cast(DictionaryObject, page["/Resources"].get_object())
        for font_ref in cast(DictionaryObject, resources["/Font"].get_object()).values():
            font = cast(DictionaryObject, font_ref.get_object())
            base = str(font["/BaseFont"])
            if "/FontDescriptor" not in font:
                assert base.lstrip("/").startswith(STANDARD_14), f"{base} is neither embedded nor a standard font"
                continue
            descriptor = cast(DictionaryObject, font["/FontDescriptor"].get_object())
            assert any(k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3")), f"{base} not embedded"
            embedded.append(base)
    assert any("WenQuanYi" in name for name in embedded), embedded


STANDARD_14 = ("Helvetica", "Times-", "Courier", "Symbol", "ZapfDingbats")  # name prefixes of the base-14 fonts


def page_size_mm(pdf: bytes) -> tuple[float, float]:
    """Width and height of the first page in millimetres."""
    box = PdfReader(io.BytesIO(pdf)).pages[0].mediabox
    return float(box.width) / MM, float(box.height) / MM


def squeeze(text: str) -> str:
    """`text` without white space, to compare with `pdf_text`."""
    return re.sub(r"\s+", "", text)


# --- ticket ----------------------------------------------------------------------------------------------

TICKET = TicketData(
    hall_name="威海市政务服务中心",
    hall_name_en="Weihai Government Service Centre",
    number="A023",
    domain="市场准入",
    domain_en="Market access",
    people_ahead=7,
    wait_minutes=15,
    issued_at=dt.datetime(2026, 11, 27, 9, 42),
    tracking_url="https://hall.example.cn/t/Xk3v9QpL2m",
    lane="green",
)


def test_ticket_pdf(tmp_path: Path) -> None:
    pdf = ticket_pdf(TICKET)
    text = pdf_text(pdf, tmp_path)
    for expected in ("威海市政务服务中心", "A023", "市场准入", "绿色通道", "前面还有7人·约15分钟", "2026-11-2709:42"):
        assert expected in text
    assert "扫码查看叫号进度" in text and "本票不含个人信息" in text
    width, height = page_size_mm(pdf)
    assert width == pytest.approx(80, abs=0.1)
    assert 100 < height < 250
    assert_cjk_font_embedded(pdf)
    (page,) = render_png(pdf, tmp_path)
    assert page.width == pytest.approx(80 / 25.4 * 80, abs=2)


def test_ticket_lanes_and_no_wait_estimate(tmp_path: Path) -> None:
    from dataclasses import replace

    text = pdf_text(ticket_pdf(replace(TICKET, lane="appointment", people_ahead=0, wait_minutes=None)), tmp_path)
    assert "预约" in text and "前面没有人" in text and "绿色通道" not in text
    text = pdf_text(ticket_pdf(replace(TICKET, lane="normal", wait_minutes=None)), tmp_path)
    assert "前面还有7人" in text and "分钟" not in text and "绿色通道" not in text


def test_ticket_is_deterministic() -> None:
    assert ticket_pdf(TICKET) == ticket_pdf(TICKET)


# --- appointment confirmation -------------------------------------------------------------------------------

APPOINTMENT = AppointmentData(
    hall_name="威海市政务服务中心",
    hall_name_en="Weihai Government Service Centre",
    domain="社保医保",
    domain_en="Social insurance",
    date=dt.date(2026, 11, 28),
    slot_start=dt.time(9, 0),
    slot_end=dt.time(9, 30),
    booking_code="YY-7K3Q9",
    qr_payload="https://hall.example.cn/a/YY-7K3Q9",
    masked_name="张*三",
    masked_id="3710**********123X",
    hall_address="威海市环翠区青岛中路140号",
)


def test_appointment_pdf(tmp_path: Path) -> None:
    pdf = appointment_pdf(APPOINTMENT)
    text = pdf_text(pdf, tmp_path)
    for expected in (
        "预约确认单",
        "YY-7K3Q9",
        "社保医保",
        "2026年11月28日（星期六）09:00–09:30",
        "张*三",
        "3710**********123X",
    ):
        assert expected in text
    assert "签到须知" in text
    assert page_size_mm(pdf) == pytest.approx((210, 297), abs=0.5)
    assert_cjk_font_embedded(pdf)
    assert len(render_png(pdf, tmp_path)) == 1


@pytest.mark.parametrize(
    ("field", "value"), [("masked_name", "张三丰"), ("masked_id", "371002199001011234"), ("masked_id", "3710X")]
)
def test_appointment_refuses_unmasked_data(field: str, value: str) -> None:
    from dataclasses import asdict

    with pytest.raises(ValueError, match="masked"):
        AppointmentData(**{**asdict(APPOINTMENT), field: value})


# --- case documents --------------------------------------------------------------------------------------

COMMON: dict[str, Any] = {
    "organ": "威海市行政审批服务局",
    "document_no": "威审受字〔2026〕第1123号",
    "applicant": "威海蓝海餐饮管理有限公司",
    "matter": "食品经营许可（新办）",
    "submitted_on": dt.datetime(2026, 11, 27, 9, 42),
    "issue_date": dt.date(2026, 11, 27),
    "phone": "0631-5200000",
    "window": "市场准入综合受理3号窗口",
}

FIELDS: dict[str, dict[str, Any]] = {
    "acceptance_receipt": {
        **COMMON,
        "case_no": "SL-20261127-0042",
        "accepted_on": dt.datetime(2026, 11, 27, 10, 5),
        "promised_days": 5,
        "promised_by": dt.date(2026, 12, 4),
        "clerk": "王晓丽",
        "materials": [
            {"name": "食品经营许可申请书", "form": "原件", "copies": 1},
            {"name": "营业执照", "form": "复印件", "copies": 1},
            {"name": "经营场所平面图及设备布局图", "form": "原件", "copies": 2},
        ],
    },
    "one_time_notice": {
        **COMMON,
        "problems": [
            {"name": "经营场所平面图", "problem": "缺少", "requirement": "提交平面图原件1份"},
            {"name": "法定代表人身份证明", "problem": "复印件不清晰", "requirement": "重新提交清晰复印件"},
        ],
    },
    "non_acceptance_notice": {
        **COMMON,
        "reason": "该申请事项依法不需要取得行政许可",
        "legal_basis": "《中华人民共和国行政许可法》第三十二条第一款第（一）项",
        "review_authority": "威海市人民政府",
        "court": "威海市环翠区人民法院",
    },
    "conditional_acceptance_notice": {
        **COMMON,
        "policy_basis": "《威海市政务服务容缺受理办法》",
        "case_no": "SL-20261127-0043",
        "accepted_on": dt.datetime(2026, 11, 27, 10, 20),
        "supplement_deadline": dt.date(2026, 12, 11),
        "pending_materials": [{"name": "消防安全检查合格证明", "requirement": "提交合格证明复印件1份"}],
    },
    "commitment_letter": {
        **COMMON,
        "proof_item": "经营场所合法使用证明",
        "legal_basis": "《中华人民共和国食品安全法》第三十五条",
        "requirement": "申请人对经营场所享有合法使用权",
        "verification_days": 30,
        "applicant_id_no": "91371000MA3XXXXX7K",
    },
}

EXPECTED: dict[str, list[str]] = {
    "acceptance_receipt": ["受理凭证", "予以受理", "SL-20261127-0042", "5个工作日（2026年12月4日前办结）", "营业执照"],
    "one_time_notice": ["一次性告知书", "一次性告知如下", "复印件不清晰", "重新提交清晰复印件", "申请人签收"],
    "non_acceptance_notice": [
        "不予受理通知书",
        "不需要取得行政许可",
        "六十日内向威海市人民政府申请行政复议",
        "威海市环翠区人民法院提起行政诉讼",
    ],
    "conditional_acceptance_notice": ["容缺受理通知书", "2026年12月11日前", "消防安全检查合格证明", "容缺受理自动终止"],
    "commitment_letter": ["告知承诺书", "一、行政机关告知", "二、申请人承诺", "91371000MA3XXXXX7K", "30个工作日内"],
}


def test_builtin_templates_are_the_five_of_r9() -> None:
    assert sorted(load_templates()) == sorted(CASE_DOCUMENT_KINDS)


@pytest.mark.parametrize("kind", CASE_DOCUMENT_KINDS)
def test_case_document(kind: str, tmp_path: Path) -> None:
    pdf = render_case_document(kind, FIELDS[kind])
    text = pdf_text(pdf, tmp_path)
    for expected in [*EXPECTED[kind], COMMON["organ"], COMMON["document_no"], "2026年11月27日"]:
        assert squeeze(expected) in text, expected
    if kind != "commitment_letter":
        assert COMMON["applicant"] in text and "食品经营许可（新办）" in text
    assert page_size_mm(pdf) == pytest.approx((210, 297), abs=0.5)
    assert_cjk_font_embedded(pdf)
    pages = render_png(pdf, tmp_path)
    assert pages[0].size == pytest.approx((210 / 25.4 * 80, 297 / 25.4 * 80), abs=2)
    assert "{" not in text, "a placeholder was left unfilled"


def test_case_document_is_deterministic() -> None:
    fields = FIELDS["acceptance_receipt"]
    assert render_case_document("acceptance_receipt", fields) == render_case_document("acceptance_receipt", fields)


def test_long_table_runs_onto_more_pages(tmp_path: Path) -> None:
    materials = [{"name": f"材料第{i}项", "form": "原件", "copies": 1} for i in range(1, 61)]
    pdf = render_case_document("acceptance_receipt", {**FIELDS["acceptance_receipt"], "materials": materials})
    assert len(PdfReader(io.BytesIO(pdf)).pages) >= 2
    text = pdf_text(pdf, tmp_path)
    assert "材料第60项" in text and "第2页" in text


def test_a_code_in_a_narrow_column_is_never_broken(tmp_path: Path) -> None:
    path = tmp_path / "list.toml"
    path.write_text(
        '[list]\ntitle = "清单"\n[[list.blocks]]\ntype = "table"\nsource = "rows"\ncolumns = [\n'
        '  { header = "办件编号", cell = "{no}", width = 1 },\n'
        '  { header = "事项", cell = "{matter}", width = 8 },\n]\n',
        encoding="utf-8",
    )
    rows = [
        {"no": "67426120600012345", "matter": "个体工商户设立登记"},
        {"no": "T1-YJ-20261206-001", "matter": "食品经营"},
    ]
    pdf = render_case_document("list", {"rows": rows}, templates=load_templates(path))
    source = tmp_path / "list.pdf"
    source.write_bytes(pdf)
    out = subprocess.run([require_tool("pdftotext"), "-layout", str(source), "-"], capture_output=True, check=True)
    lines = out.stdout.decode("utf-8").splitlines()
    for row in rows:  # each number whole on one line (a broken one would be split over two)
        assert any(row["no"] in line for line in lines), (row["no"], lines)


def test_optional_paragraph_only_when_its_field_is_given(tmp_path: Path) -> None:
    fields = FIELDS["non_acceptance_notice"]
    assert "请向" not in pdf_text(render_case_document("non_acceptance_notice", fields), tmp_path)
    with_authority = {**fields, "competent_authority": "威海市市场监督管理局"}
    assert "请向威海市市场监督管理局提出申请" in pdf_text(
        render_case_document("non_acceptance_notice", with_authority), tmp_path
    )


def test_values_print_as_plain_text(tmp_path: Path) -> None:
    fields = {**FIELDS["acceptance_receipt"], "clerk": "<b>王&李</b>"}
    assert "<b>王&李</b>" in pdf_text(render_case_document("acceptance_receipt", fields), tmp_path)


def test_missing_field_is_a_key_error_naming_it() -> None:
    fields = dict(FIELDS["non_acceptance_notice"])
    del fields["reason"]
    fields["court"] = "   "
    with pytest.raises(MissingFieldsError) as caught:
        render_case_document("non_acceptance_notice", fields)
    assert isinstance(caught.value, KeyError) and isinstance(caught.value, PeripheralError)
    assert caught.value.missing == ("reason", "court")
    assert "reason" in str(caught.value) and "court" in str(caught.value)


def test_missing_table_cells_and_rows_are_named() -> None:
    materials = [{"name": "申请书", "form": "原件", "copies": 1}, {"name": "营业执照", "form": "复印件"}]
    with pytest.raises(MissingFieldsError) as caught:
        render_case_document("acceptance_receipt", {**FIELDS["acceptance_receipt"], "materials": materials})
    assert caught.value.missing == ("materials[2].copies",)
    with pytest.raises(MissingFieldsError, match="problems"):
        render_case_document("one_time_notice", {**FIELDS["one_time_notice"], "problems": []})
    with pytest.raises(MissingFieldsError, match="problems"):
        render_case_document("one_time_notice", {**FIELDS["one_time_notice"], "problems": "缺少平面图"})


def test_required_fields_of_a_template() -> None:
    names = required_fields(load_templates()["non_acceptance_notice"])
    assert {"organ", "document_no", "applicant", "reason", "review_authority", "court", "competent_authority"} <= set(
        names
    )


def test_unknown_kind() -> None:
    with pytest.raises(TemplateError, match="acceptance_receipt"):
        render_case_document("permit", {})


@pytest.mark.parametrize(
    "raw",
    [
        {"x": {"title": "T", "blocks": [{"type": "paragraph", "text": "{a.b}"}]}},
        {"x": {"title": "T", "blocks": [{"type": "paragraph", "text": "{a!r}"}]}},
        {"x": {"title": "T", "blocks": [{"type": "paragraph", "text": "{unclosed"}]}},
        {"x": {"title": "T", "blocks": [{"type": "poem", "text": "x"}]}},
        {"x": {"title": "T", "blocks": [{"type": "table", "source": "rows", "columns": []}]}},
        {"x": {"title": "T", "blocks": []}},
        {"x": {"title": "T", "blocks": [{"type": "heading", "text": "H", "text_en": "{name}"}]}},
    ],
)
def test_malformed_templates_are_refused(raw: dict[str, Any]) -> None:
    with pytest.raises(TemplateError):
        parse_templates(raw)


def test_a_hall_can_supply_its_own_wording(tmp_path: Path) -> None:
    path = tmp_path / "mine.toml"
    path.write_text(
        '[receipt]\ntitle = "收件回执"\ntitle_en = "Receipt"\n'
        '[[receipt.blocks]]\ntype = "paragraph"\ntext = "已收到{applicant}的材料。"\n',
        encoding="utf-8",
    )
    pdf = render_case_document("receipt", {"applicant": "李四"}, templates=load_templates(path))
    assert "已收到李四的材料。" in pdf_text(pdf, tmp_path)


# --- font -----------------------------------------------------------------------------------------------


def test_missing_font_names_the_debian_package(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fonts, "DEFAULT_CJK_FONT", Path("/nonexistent/wqy-microhei.ttc"))
    with pytest.raises(FontUnavailable, match="fonts-wqy-microhei") as caught:
        ticket_pdf(TICKET)
    assert isinstance(caught.value, DeviceUnavailable)


def test_a_file_that_is_not_a_truetype_font(tmp_path: Path) -> None:
    bogus = tmp_path / "bogus.ttf"
    bogus.write_bytes(b"not a font at all")
    with pytest.raises(FontUnavailable, match="cannot be embedded"):
        render_case_document("one_time_notice", FIELDS["one_time_notice"], font_path=bogus)
