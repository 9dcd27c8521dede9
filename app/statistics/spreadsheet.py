"""The statistics page's tables as an Excel workbook: one sheet per table, Chinese
headers, the same numbers as the page (rates as percentages with two decimals)."""

from __future__ import annotations

import io

from openpyxl import Workbook

from .services import DIMENSIONS, Counts, Report

VOLUME = (
    ("收件", "received"),
    ("受理", "accepted"),
    ("补正", "corrected"),
    ("不予受理", "refused"),
    ("撤件", "withdrawn"),
    ("办结", "decided"),
    ("送达", "delivered"),
    ("期末在办", "in_progress"),
    ("期末超期", "overdue"),
)
RATES = (
    ("即办件占比", "instant_share"),
    ("按时办结率", "on_time_rate"),
    ("提前办结率", "early_rate"),
)


def percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.2f}%"


def counts_row(line: Counts) -> list:
    return [getattr(line, key) for _h, key in VOLUME] + [
        percent(getattr(line, k)) for _h, k in RATES
    ]


def workbook(report: Report) -> bytes:
    book = Workbook(write_only=True)
    headers = [h for h, _k in VOLUME] + [h for h, _k in RATES]
    sheet = book.create_sheet("总量")
    sheet.append(["统计期间", report.filters.label])
    sheet.append(["", *headers])
    sheet.append(["合计", *counts_row(report.total)])
    for dimension, title in DIMENSIONS.items():
        sheet = book.create_sheet(f"按{title}"[:31])
        sheet.append([title, *headers])
        for line in report.by[dimension]:
            sheet.append([line.label, *counts_row(line)])
    sheet = book.create_sheet("办理时限")
    sheet.append(["事项", "法定时限（工作日）", "承诺时限（工作日）", "压缩比例", "办结件数",
                  "实际用时中位数（工作日）", "实际用时90分位（工作日）"])  # fmt: skip
    for limit in report.limits:
        sheet.append([limit["item"], limit["statutory"], limit["committed"], percent(limit["cut"]),
                      limit["decided"], limit["median"], limit["p90"]])  # fmt: skip
    sheet = book.create_sheet("预警")
    sheet.append(["主办部门", "黄牌", "红牌"])
    for line in report.cards:
        sheet.append([line["department"], line["yellow"], line["red"]])
    sheet = book.create_sheet("扣分")
    sheet.append(["人员", "扣分"])
    for name, points in report.points_by_person:
        sheet.append([name, points])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
