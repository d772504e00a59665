"""Report rows as CSV (UTF-8 with BOM, so spreadsheet programs read the Chinese headings) or XLSX (openpyxl)."""

from __future__ import annotations

import csv
import io
from typing import Any, Final

from openpyxl import Workbook  # type: ignore[import-untyped]
from openpyxl.styles import Font  # type: ignore[import-untyped]

# (field, heading) in column order; headings Chinese first with English.
COLUMNS: Final = (
    ("key", "分组 / Group"),
    ("tickets", "取号数 / Tickets"),
    ("served", "办结数 / Served"),
    ("no_show", "过号 / No-show"),
    ("cancelled", "取消 / Cancelled"),
    ("expired", "过期 / Expired"),
    ("abandoned", "弃号合计 / Abandoned"),
    ("wait_mean_s", "平均等候(秒) / Mean wait (s)"),
    ("wait_median_s", "等候中位数(秒) / Median wait (s)"),
    ("wait_p90_s", "等候P90(秒) / P90 wait (s)"),
    ("service_mean_s", "平均办理(秒) / Mean service (s)"),
    ("service_median_s", "办理中位数(秒) / Median service (s)"),
    ("service_p90_s", "办理P90(秒) / P90 service (s)"),
    ("evaluations", "评价数 / Evaluations"),
    ("satisfied", "满意数 / Satisfied"),
    ("satisfaction", "满意率 / Satisfaction rate"),
    ("appointments", "预约数 / Appointments"),
    ("appt_checked_in", "预约签到 / Checked in"),
    ("appt_no_show", "预约爽约 / Appointment no-shows"),
)


def _lines(report: dict[str, Any]) -> list[list[Any]]:
    rows = [[r.get(f) for f, _ in COLUMNS] for r in report["rows"]]
    total = report["total"] | {"key": "合计 / Total"}
    rows.append([total.get(f) for f, _ in COLUMNS])
    return rows


def to_csv(report: dict[str, Any]) -> bytes:
    """The report as CSV bytes (header row, one row per group, a total row)."""
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow([h for _, h in COLUMNS])
    for line in _lines(report):
        w.writerow(["" if v is None else v for v in line])
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def to_xlsx(report: dict[str, Any]) -> bytes:
    """The report as an XLSX workbook with one sheet; numbers stay numbers."""
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = f"{report['group']} {report['from']}~{report['to']}"[:31]
    ws.append([h for _, h in COLUMNS])
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for line in _lines(report):
        ws.append(line)
    ws.column_dimensions["A"].width = 18
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
