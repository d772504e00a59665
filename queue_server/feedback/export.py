"""Report rows as CSV (UTF-8 with BOM, so spreadsheet programs read the Chinese headings) or XLSX (openpyxl)."""

from __future__ import annotations

import csv
import io
from typing import Any, Final

from openpyxl import Workbook  # type: ignore[import-untyped]
from openpyxl.styles import Font  # type: ignore[import-untyped]

# (field, heading, unit) in column order, as the reports page shows them: times in minutes, rates in percent;
# headings Chinese first with English.
COLUMNS: Final = (
    ("key", "分组 / Group", ""),
    ("tickets", "取号数 / Tickets", ""),
    ("served", "办结数 / Served", ""),
    ("no_show", "过号 / No-show", ""),
    ("cancelled", "取消 / Cancelled", ""),
    ("expired", "过期 / Expired", ""),
    ("abandoned", "弃号合计 / Abandoned", ""),
    ("wait_mean_s", "平均等候(分) / Mean wait (min)", "min"),
    ("wait_median_s", "等候中位数(分) / Median wait (min)", "min"),
    ("wait_p90_s", "等候P90(分) / P90 wait (min)", "min"),
    ("service_mean_s", "平均办理(分) / Mean service (min)", "min"),
    ("service_median_s", "办理中位数(分) / Median service (min)", "min"),
    ("service_p90_s", "办理P90(分) / P90 service (min)", "min"),
    ("evaluations", "评价数 / Ratings", ""),
    ("good_rate", "好评率(%) / Good (%)", "%"),
    ("bad_rate", "差评率(%) / Bad (%)", "%"),
    ("level_5", "非常满意 / Very satisfied", ""),
    ("level_4", "满意 / Satisfied", ""),
    ("level_3", "基本满意 / Fairly satisfied", ""),
    ("level_2", "不满意 / Dissatisfied", ""),
    ("level_1", "非常不满意 / Very dissatisfied", ""),
    ("appointments", "预约数 / Appointments", ""),
    ("appt_checked_in", "预约签到 / Checked in", ""),
    ("appt_no_show", "预约爽约 / Appointment no-shows", ""),
)
NOT_CALLED: Final = "未叫号 / Not called yet"
LANES: Final = {
    "normal": "普通 / Regular",
    "military": "军人优先 / Military",
    "special": "老弱病残优先 / Priority",
    "vip": "重点项目 / Key project",
    "appointment": "预约 / Appointment",
}


def _value(row: dict[str, Any], field: str, unit: str) -> Any:
    v = row["levels"].get(field[-1], 0) if field.startswith("level_") else row.get(field)
    if v is None:
        return None
    if unit == "min":
        return round(v / 60, 1)
    if unit == "%":
        return round(v * 100, 1)
    return v


def _lines(report: dict[str, Any]) -> list[list[Any]]:
    """One line per group, named as on the page (tickets never called, which have no window or clerk, are
    the 未叫号 line), then the total."""
    names = report.get("labels", {})
    rows = []
    for r in report["rows"]:
        line = [_value(r, f, u) for f, _, u in COLUMNS]
        line[0] = names.get(str(r["key"] or ""), r["key"] or NOT_CALLED)
        rows.append(line)
    total = report["total"] | {"key": "合计 / Total"}
    rows.append([_value(total, f, u) for f, _, u in COLUMNS])
    return rows


def to_csv(report: dict[str, Any]) -> bytes:
    """The report as CSV bytes (header row, one row per group, a total row)."""
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow([h for _, h, _ in COLUMNS])
    for line in _lines(report):
        w.writerow(["" if v is None else v for v in line])
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def to_xlsx(report: dict[str, Any]) -> bytes:
    """The report as an XLSX workbook with one sheet; numbers stay numbers."""
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = f"{report['group']} {report['from']}~{report['to']}"[:31]
    ws.append([h for _, h, _ in COLUMNS])
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for line in _lines(report):
        ws.append(line)
    ws.column_dimensions["A"].width = 24
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
